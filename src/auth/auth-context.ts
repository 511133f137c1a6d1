import type { ApiKeyRole } from './api-key-format';

/** Who is calling: resolved from the API key by the guard, and the scope of every query. */
export interface AuthContext {
  teamId: string;
  teamName: string;
  keyId: string;
  role: ApiKeyRole;
  /** For ingest keys limited to some projects; null means all of the team's projects. */
  projects: string[] | null;
}
