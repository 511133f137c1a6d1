import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TeamsService } from './auth/teams.service';
import { ConfigError, loadConfig } from './config/config';
import { CoreModule } from './config/core.module';
import { HeraldLogger } from './common/logging/herald-logger';
import { SecretRedactor } from './common/logging/redactor';
import { DatabaseModule } from './database/database.module';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  teams:create <name>   create a team and print its first admin API key
`;

@Module({ imports: [DatabaseModule], providers: [TeamsService] })
class CliModule {}

/** Operator commands that are not part of the team-scoped HTTP API. */
async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command !== 'teams:create' || args.length !== 1) {
    process.stderr.write(USAGE);
    return command === undefined || command === 'help' ? 0 : 2;
  }
  const config = { ...loadConfig(process.env), logLevel: 'warn' as const };
  const redactor = new SecretRedactor();
  const logger = new HeraldLogger({ level: config.logLevel, format: config.logFormat }, redactor, (line) =>
    process.stderr.write(line + '\n'),
  );
  const context = await NestFactory.createApplicationContext(
    { module: CliModule, imports: [CoreModule.register({ config, redactor })] },
    { logger, abortOnError: false },
  );
  try {
    const { team, adminKey } = await context.get(TeamsService).createWithAdminKey(args[0]);
    process.stdout.write(
      `Created team "${team.name}" (${team.id}). Its first admin API key, shown only this once:\n\n    ${adminKey.key}\n\n`,
    );
    return 0;
  } finally {
    await context.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`herald cli: ${message}\n`);
    process.exit(1);
  },
);
