import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TeamsService } from '../auth/teams.service';
import { HeraldLogger } from '../common/logging/herald-logger';
import { SecretRedactor } from '../common/logging/redactor';
import { loadConfig } from '../config/config';
import { CoreModule } from '../config/core.module';
import { DatabaseModule } from '../database/database.module';

@Module({ imports: [DatabaseModule], providers: [TeamsService] })
class TeamsCommandModule {}

/** Creates a team on the local database with TeamsService (the same path the server's bootstrap uses). */
export async function createTeam(name: string, env: Readonly<Record<string, string | undefined>>): Promise<{ team: { id: string; name: string }; adminKey: string }> {
  const config = { ...loadConfig(env as NodeJS.ProcessEnv), logLevel: 'warn' as const };
  const redactor = new SecretRedactor();
  const logger = new HeraldLogger({ level: config.logLevel, format: config.logFormat }, redactor, (line) => process.stderr.write(line + '\n'));
  const context = await NestFactory.createApplicationContext(
    { module: TeamsCommandModule, imports: [CoreModule.register({ config, redactor })] },
    { logger, abortOnError: false },
  );
  try {
    const { team, adminKey } = await context.get(TeamsService).createWithAdminKey(name);
    return { team: { id: team.id, name: team.name }, adminKey: adminKey.key };
  } finally {
    await context.close();
  }
}
