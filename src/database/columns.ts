import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { ValueTransformer } from 'typeorm';

/**
 * Times are stored as epoch milliseconds in a `bigint` column: the same type and ordering on
 * SQLite and PostgreSQL (whose driver returns bigint as a string, hence the transformer).
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: readNumber,
};

/** An integer or epoch-ms column as either driver answers it (PostgreSQL gives bigint as a string). */
export function readNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A JSON value kept in a text column (dialect-neutral; parsed on read). */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null || value === undefined ? null : JSON.parse(value)),
};

export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * TypeORM types insert/update values as deep partials, which JSON columns holding `unknown`
 * (templates, metadata) cannot satisfy; the jsonText transformer stores them whole.
 */
export function asRow<T>(row: T): QueryDeepPartialEntity<T> {
  return row as QueryDeepPartialEntity<T>;
}
