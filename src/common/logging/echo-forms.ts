/**
 * The forms in which a receiver may echo a secret Herald sent it (docs/security.md › Delivery
 * history): as is; JSON-escaped (JavaScript's, with `\/`, and ASCII-only `\uXXXX` as Python
 * writes it); URL-encoded (encodeURIComponent, form encoding with `+`, URLSearchParams, each
 * with lower-case hex too); base64 and base64url of the value wherever it sits in the encoded
 * text — so `base64(user:value)` of basic auth is caught — and, for a value that is itself
 * base64 of text (`user:pass` stored ready-encoded), that text and its part after the colon.
 *
 * Each form is searched as a plain substring. Base64 of a value inside a longer text depends on
 * the bytes around it, so only the characters the value alone determines are searched (a "core"
 * per alignment); cores shorter than 4 characters (under 3 bytes of the value) are not, and at
 * most the 1–2 characters on each side of a core stay visible — they carry under a byte each.
 */
export function echoForms(value: string): string[] {
  if (value.length === 0) return [];
  const forms = new Set<string>([value]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(json.replace(/\//g, '\\/'));
  forms.add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const uri = encodeURIComponent(safeForUri(value));
  const form = uri.replace(/%20/g, '+');
  const params = new URLSearchParams([['v', value]]).toString().slice(2);
  for (const encoded of [uri, form, params]) {
    forms.add(encoded);
    forms.add(encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  }
  for (const core of base64Cores(Buffer.from(value, 'utf8'))) {
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const decoded = decodedBase64Text(value);
  if (decoded !== null) {
    forms.add(decoded);
    const colon = decoded.indexOf(':');
    if (colon !== -1 && colon < decoded.length - 1) forms.add(decoded.slice(colon + 1));
  }
  forms.delete('');
  return [...forms];
}

/** encodeURIComponent throws on a lone surrogate; such a value is sent (and echoed) as U+FFFD. */
function safeForUri(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const MIN_CORE_CHARS = 4;

/**
 * For each of the three byte alignments, the base64 characters determined by `bytes` alone
 * when they sit at that offset in a longer input (character i covers bits 6i…6i+5).
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const firstBit = offset * 8;
    const endBit = (offset + bytes.length) * 8;
    const first = Math.ceil(firstBit / 6);
    const end = Math.floor(endBit / 6); // exclusive: character end-1 ends at or before endBit
    if (end - first >= MIN_CORE_CHARS) cores.push(encoded.slice(first, end));
  }
  // A value at the very end of the encoded text is encoded whole, padding included.
  const whole = bytes.toString('base64');
  if (whole.length >= MIN_CORE_CHARS) cores.push(whole.replace(/=+$/, ''));
  return cores;
}

/** The text a base64 value encodes, when it is printable UTF-8 (e.g. `user:pass`); else null. */
function decodedBase64Text(value: string): string | null {
  if (value.length < 8 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return null;
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const text = bytes.toString('utf8');
  if (text.length < 3 || text.includes('\uFFFD') || !Buffer.from(text, 'utf8').equals(bytes)) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return null;
  return text;
}
