/**
 * Rotation with overlap (docs/signatures.md › Rotating a signing secret). Pure: a secret's
 * earlier values, each encrypted as the current one is, kept until their `validUntil` so the
 * standard scheme signs with them too while receivers move to the new value.
 */

/** One replaced value. Times are epoch ms. */
export interface PreviousValue {
  /** Encrypted exactly as the current value was (same cipher, same team-and-name binding). */
  ciphertext: string;
  retiredAt: number;
  validUntil: number;
}

/** At most this many previous values are kept; a rotation past it drops the oldest. */
export const MAX_PREVIOUS_VALUES = 10;
/** The overlap a secret some webhook signs with gets when PUT names none: one day. */
export const DEFAULT_SIGNING_OVERLAP_SECONDS = 86_400;
/** The longest overlap a rotation may ask for: 30 days. */
export const MAX_OVERLAP_SECONDS = 30 * 86_400;

/** The previous values still valid at `now`, newest first. */
export function activePrevious(values: readonly PreviousValue[] | null, now: number): PreviousValue[] {
  return (values ?? []).filter((v) => v.validUntil > now).sort((a, b) => b.retiredAt - a.retiredAt);
}

/**
 * The previous values after a rotation at `now` that replaces `replaced` (a ciphertext): it
 * joins them for `overlapSeconds` (not at all for 0), expired ones are dropped, and at most
 * MAX_PREVIOUS_VALUES stay, the newest.
 */
export function afterRotation(values: readonly PreviousValue[] | null, replaced: string, now: number, overlapSeconds: number): PreviousValue[] {
  const kept = activePrevious(values, now);
  if (overlapSeconds > 0) kept.unshift({ ciphertext: replaced, retiredAt: now, validUntil: now + overlapSeconds * 1000 });
  return kept.slice(0, MAX_PREVIOUS_VALUES);
}

/** PUT without `previousValidForSeconds`: a day for a secret some webhook signs with, else no overlap. */
export function defaultOverlapSeconds(usedAsSigningSecret: boolean): number {
  return usedAsSigningSecret ? DEFAULT_SIGNING_OVERLAP_SECONDS : 0;
}
