import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ApiKeyRole } from '../auth/api-key-format';
import { TeamsService } from '../auth/teams.service';
import { HeraldLogger } from '../common/logging/herald-logger';
import { SecretRedactor } from '../common/logging/redactor';
import { loadConfig } from '../config/config';
import { CoreModule } from '../config/core.module';
import { DatabaseModule } from '../database/database.module';

@Module({ imports: [DatabaseModule], providers: [TeamsService] })
class TeamsCommandModule {}

type Env = Readonly<Record<string, string | undefined>>;

/** Creates a team on the local database with TeamsService (the same path the server's bootstrap uses). */
export async function createTeam(name: string, env: Env): Promise<{ team: { id: string; name: string }; adminKey: string }> {
  return withTeams(env, async (teams) => {
    const { team, adminKey } = await teams.createWithAdminKey(name);
    return { team: { id: team.id, name: team.name }, adminKey: adminKey.key };
  });
}

/** Issues a new API key for a team on the local database (`herald keys create`). */
export async function createKey(
  teamName: string,
  role: ApiKeyRole,
  name: string,
  env: Env,
): Promise<{ team: { id: string; name: string }; id: string; key: string }> {
  return withTeams(env, async (teams) => {
    const { team, key, id } = await teams.createKey(teamName, role, name);
    return { team: { id: team.id, name: team.name }, id, key: key.key };
  });
}

/** TeamsService on the local database, in a Nest context of its own (no server, no worker). */
async function withTeams<T>(env: Env, work: (teams: TeamsService) => Promise<T>): Promise<T> {
  const config = { ...loadConfig(env as NodeJS.ProcessEnv), logLevel: 'warn' as const };
  const redactor = new SecretRedactor();
  const logger = new HeraldLogger({ level: config.logLevel, format: config.logFormat }, redactor, (line) => process.stderr.write(line + '\n'));
  const context = await NestFactory.createApplicationContext(
    { module: TeamsCommandModule, imports: [CoreModule.register({ config, redactor })] },
    { logger, abortOnError: false },
  );
  try {
    return await work(context.get(TeamsService));
  } finally {
    await context.close();
  }
}
