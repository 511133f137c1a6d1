/**
 * Three tiers (STYLE.md §11): unit specs beside the code, medium specs on a real temporary
 * SQLite database, and e2e specs against the whole app with real HTTP.
 * `npm test` type-checks everything with tsc first, so ts-jest only transpiles.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] };
const base = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'], rootDir: __dirname };

module.exports = {
  maxWorkers: 2,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...base, displayName: 'medium', testMatch: ['<rootDir>/src/**/*.medium-spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 30 },
  ],
};
