/**
 * Errors of Herald's own rules, thrown below the HTTP layer (the database layer, pure
 * cores). The exception filter answers each with its status (NameTakenError: 409).
 */

/** A team resource's unique name is taken: the database refused the row. */
export class NameTakenError extends Error {
  constructor(readonly what: string) {
    super(`A ${what} with that name already exists in this team`);
    this.name = 'NameTakenError';
  }
}
