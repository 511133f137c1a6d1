import { existsSync } from 'node:fs';
import path from 'node:path';
import { CONSOLE_HEADERS, consoleDirectory, resolveConsoleAsset } from './console-assets';

describe('resolveConsoleAsset', () => {
  const root = path.join(path.sep, 'srv', 'herald', 'console');

  it('maps the empty path to the index page and plain paths to files under the root', () => {
    expect(resolveConsoleAsset(root, '')).toBe(path.join(root, 'index.html'));
    expect(resolveConsoleAsset(root, 'styles.css')).toBe(path.join(root, 'styles.css'));
    expect(resolveConsoleAsset(root, 'js/pages/webhooks.js')).toBe(path.join(root, 'js', 'pages', 'webhooks.js'));
    expect(resolveConsoleAsset(root, 'my%20file.svg')).toBe(path.join(root, 'my file.svg'));
  });

  it.each([
    ['../package.json'],
    ['js/../../package.json'],
    ['%2e%2e/package.json'],
    ['js%2f..%2f..%2fpackage.json'],
    ['js%5c..%5cindex.html'],
    ['.env.js'],
    ['js/.hidden.js'],
    ['js//main.js'],
    ['js/'],
    ['index.html%00.js'],
    ['%E0%A4%A.js'],
  ])('refuses %s', (requestPath) => {
    expect(resolveConsoleAsset(root, requestPath)).toBeNull();
  });

  it('serves only the file types the console ships', () => {
    expect(resolveConsoleAsset(root, 'favicon.svg')).not.toBeNull();
    expect(resolveConsoleAsset(root, 'images/shot.PNG')).not.toBeNull();
    for (const file of ['tsconfig.json', 'README.md', 'main.ts', 'js/main.js.map', 'index']) {
      expect(resolveConsoleAsset(root, file)).toBeNull();
    }
  });
});

describe('console files', () => {
  it('are found two levels above this folder, where the index page exists', () => {
    expect(path.basename(consoleDirectory())).toBe('console');
    expect(existsSync(path.join(consoleDirectory(), 'index.html'))).toBe(true);
  });

  it('are served under a policy that allows this origin only and no form submission', () => {
    const csp = CONSOLE_HEADERS['Content-Security-Policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("form-action 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });
});
