/** The platforms whose webhooks a source receives (issue 15). */
export const SOURCE_KINDS = ['mlflow', 'determined', 'huggingface', 'wandb', 'valohai'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** A receipt's verdict: events stored, understood but without a Herald equivalent, or refused. */
export const RECEIPT_VERDICTS = ['accepted', 'ignored', 'refused'] as const;
export type ReceiptVerdict = (typeof RECEIPT_VERDICTS)[number];

/** Receipts kept per source; older ones are dropped as new ones arrive. */
export const RECEIPTS_PER_SOURCE = 100;

/** What a source's secret holds, per kind, for messages and docs. */
export const SECRET_MEANING: Readonly<Record<SourceKind, string | null>> = {
  mlflow: 'the MLflow webhook\'s secret',
  determined: 'the Determined master\'s webhook_signing_key',
  huggingface: 'the Hugging Face webhook\'s secret',
  wandb: 'the access token of the W&B webhook',
  valohai: null,
};

const RECEIVE_PATH = /^\/v1\/sources\/[^/]+\/receive(?:\/[^/]+)?\/?$/;

/** Whether a request path is a source's receive URL (its body is read raw: signatures cover the exact bytes). */
export function isReceivePath(path: string): boolean {
  return RECEIVE_PATH.test(path);
}

/** The path a sender is given; for Valohai it ends with the source's token. */
export function receivePath(sourceId: string, token?: string): string {
  const base = `/v1/sources/${encodeURIComponent(sourceId)}/receive`;
  return token === undefined ? base : `${base}/${token}`;
}
