/** Webhook kinds (docs/design.md › Webhooks) and what each implies. */
export const WEBHOOK_KINDS = ['generic', 'slack', 'teams', 'github', 'discord'] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

export const SIGNATURE_SCHEMES = ['standard', 'wandb', 'determined', 'github'] as const;
export type SignatureSchemeName = (typeof SIGNATURE_SCHEMES)[number];

export const DISABLED_REASONS = ['user', 'gone', 'failing'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];

/** Per-webhook delivery policy. null means "no limit". */
export interface DeliverySettings {
  ratePerSecond: number | null;
  burst: number | null;
  maxConcurrency: number | null;
  maxAttempts: number;
  /** Delay before each attempt, in seconds, the first normally 0. ±20 % jitter is applied. */
  scheduleSeconds: number[];
}

/** The default retry schedule (docs/design.md › Delivery): 0, 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, 3 h, then failed. */
export const DEFAULT_SCHEDULE_SECONDS = [0, 5, 30, 120, 600, 1800, 3600, 10800];

/** The most Herald sends in one request, whatever the webhook (HttpExecutor refuses more). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The largest body worth rendering for each kind (docs/design.md › Payload rendering): a body
 * over it is refused at match time, recorded as the match's failure, never stored or sent.
 * Teams documents a 28 KB message limit for incoming webhooks. Slack truncates a message's text
 * past 40 000 characters and takes at most 50 blocks of 3 000; Discord takes 2 000 characters
 * of content and 6 000 across all embeds. Their limits count characters of fields, not bytes
 * of JSON, so these leave room for structure and 4-byte characters: a larger body can only be
 * refused or cut by the receiver.
 */
const BODY_LIMIT_BY_KIND: Record<WebhookKind, number> = {
  generic: MAX_BODY_BYTES,
  github: MAX_BODY_BYTES,
  slack: 1024 * 1024,
  teams: 28 * 1024,
  discord: 256 * 1024,
};

export function bodyLimitBytes(kind: WebhookKind): number {
  return BODY_LIMIT_BY_KIND[kind];
}

/** The receivers' own published limits: Slack 1 message/s per webhook, Teams 4/s, Discord 5/s. */
const RATE_BY_KIND: Record<WebhookKind, { ratePerSecond: number | null; burst: number | null }> = {
  generic: { ratePerSecond: null, burst: null },
  github: { ratePerSecond: null, burst: null },
  slack: { ratePerSecond: 1, burst: 1 },
  teams: { ratePerSecond: 4, burst: 4 },
  discord: { ratePerSecond: 5, burst: 5 },
};

/** A token bucket's size when no burst is set: the rate rounded up, at least 1 (1 with no rate). */
export function defaultBurst(ratePerSecond: number | null): number {
  return Math.max(1, Math.ceil(ratePerSecond ?? 1));
}

export function defaultDeliverySettings(kind: WebhookKind): DeliverySettings {
  return {
    ...RATE_BY_KIND[kind],
    maxConcurrency: null,
    maxAttempts: DEFAULT_SCHEDULE_SECONDS.length,
    scheduleSeconds: [...DEFAULT_SCHEDULE_SECONDS],
  };
}

/**
 * Kinds whose URL is itself a credential (anyone holding it can post): members, logs and
 * delivery history see only the origin.
 */
export function urlIsCredential(kind: WebhookKind): boolean {
  return kind === 'slack' || kind === 'teams' || kind === 'discord';
}

export function maskedUrl(url: string): string {
  try {
    return `${new URL(url).origin}/••••••`;
  } catch {
    return '••••••';
  }
}
