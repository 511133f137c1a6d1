import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ApiError } from '../errors/api-error';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** `limit` and `cursor`, shared by every list endpoint. */
export class ListQueryDto {
  @ApiPropertyOptional({ description: `Items per page (1–${MAX_LIMIT})`, default: DEFAULT_LIMIT, minimum: 1, maximum: MAX_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

/** `limit`, `cursor` and `name` (an exact name: a lookup by name answers 0 or 1 item) for lists of named resources. */
export class NamedListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ description: 'Only the resource of exactly this name (names are unique in a team)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: base64url of the last item's sort key. */
export function encodeCursor(sortKey: string): string {
  return Buffer.from(JSON.stringify([sortKey]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === 'string') return parsed[0];
  } catch {
    // fall through to the 400 below
  }
  throw ApiError.invalidField('cursor', 'is not a cursor issued by this endpoint');
}

/**
 * Builds a page from rows fetched with `take: limit + 1`: the extra row only says whether
 * another page exists.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  sortKey: (row: Row) => string,
  view: (row: Row) => Item,
): Page<Item> {
  const pageRows = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor(sortKey(pageRows[pageRows.length - 1])) : null;
  return { items: pageRows.map(view), nextCursor };
}

/** The sort key of newest-first lists: a time (epoch ms) and the id breaking ties. */
export function timeSortKey(time: number, id: string): string {
  return `${time}:${id}`;
}

/** Reads a `timeSortKey` cursor back; null when there is none. */
export function decodeTimeCursor(cursor: string | undefined): { time: number; id: string } | null {
  const key = decodeCursor(cursor);
  if (key === null) return null;
  const at = key.indexOf(':');
  const time = Number(key.slice(0, at));
  if (at < 1 || !Number.isSafeInteger(time)) throw ApiError.invalidField('cursor', 'is not a cursor issued by this endpoint');
  return { time, id: key.slice(at + 1) };
}

export function limitOf(query: ListQueryDto): number {
  return query.limit ?? DEFAULT_LIMIT;
}
