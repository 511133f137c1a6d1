import { Injectable } from '@nestjs/common';

/** Something that refers to a secret by name (a webhook's access token, signing secret, …). */
export interface SecretUsage {
  kind: string;
  id: string;
  name: string;
  /** How it uses the secret, e.g. `accessTokenSecret`. */
  as: string;
}

/** Answers, for secret names of a team, who uses each of them. */
export type SecretUsageLookup = (teamId: string, names: string[]) => Promise<Map<string, SecretUsage[]>>;

/**
 * Modules that refer to secrets register a lookup here, so the secrets module can list usage
 * and refuse to delete a secret in use without depending on those modules.
 */
@Injectable()
export class SecretUsageRegistry {
  private readonly lookups: SecretUsageLookup[] = [];

  register(lookup: SecretUsageLookup): void {
    this.lookups.push(lookup);
  }

  async usages(teamId: string, names: string[]): Promise<Map<string, SecretUsage[]>> {
    const merged = new Map<string, SecretUsage[]>(names.map((n) => [n, []]));
    if (names.length === 0) return merged;
    for (const lookup of this.lookups) {
      for (const [name, uses] of await lookup(teamId, names)) merged.get(name)?.push(...uses);
    }
    return merged;
  }
}
