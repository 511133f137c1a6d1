import { redactedExcerpt } from '../../delivery/http-executor';
import { echoForms } from './echo-forms';
import { BoundRedaction, REDACTED, SecretRedactor } from './redactor';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('echoForms and BoundRedaction', () => {
  const secret = 'qq"leak\\me/1234 +&é';
  const bound = new BoundRedaction([secret]);
  const leaks = (text: string, value = secret) => {
    const out = bound.redact(text);
    return out.includes(value) || out.includes(value.slice(0, -1));
  };

  it('recognises the raw value and every JSON escaping a receiver may use', () => {
    const json = JSON.stringify({ echo: secret });
    expect(json).toContain('qq\\"leak\\\\me/1234');
    expect(bound.redact(json)).toBe(`{"echo":"${REDACTED}"}`);
    expect(bound.redact(`x ${secret} y`)).toBe(`x ${REDACTED} y`);
    const slashed = JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/');
    expect(bound.redact(slashed)).toBe(REDACTED);
    const pythonAscii = JSON.stringify(secret).slice(1, -1).replace('é', '\\u00e9');
    expect(bound.redact(pythonAscii)).toBe(REDACTED);
  });

  it('recognises URL encodings: encodeURIComponent, form +, URLSearchParams, lower-case hex', () => {
    const uri = encodeURIComponent(secret);
    expect(bound.redact(`?a=${uri}&b=1`)).toBe(`?a=${REDACTED}&b=1`);
    expect(bound.redact(uri.replace(/%20/g, '+'))).toBe(REDACTED);
    expect(bound.redact(new URLSearchParams({ a: secret }).toString())).toBe(`a=${REDACTED}`);
    expect(bound.redact(uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()))).toBe(REDACTED);
  });

  it('recognises base64 of the value at any offset, as basic auth sends `user:value`', () => {
    for (const user of ['', 'a', 'ab', 'abc', 'user']) {
      const encoded = b64(`${user}:${secret}`);
      const out = bound.redact(`Authorization: Basic ${encoded}`);
      expect(out).toContain(REDACTED);
      // At most two characters of the encoding stay beside the marker on the value's side.
      expect(out.split(REDACTED).join('').length).toBeLessThanOrEqual(`Authorization: Basic ${encoded}`.length - (b64(secret).length - 4));
      const urlSafe = encoded.replace(/\+/g, '-').replace(/\//g, '_');
      expect(bound.redact(urlSafe)).toContain(REDACTED);
    }
    expect(bound.redact(b64(secret))).not.toContain(b64(secret).slice(0, 8));
  });

  it('recognises the text a ready-encoded basic-auth value stands for, and its password', () => {
    const stored = b64('deploy:pa55-w0rd');
    const r = new BoundRedaction([stored]);
    expect(r.redact('you sent deploy:pa55-w0rd')).toBe(`you sent ${REDACTED}`);
    expect(r.redact('password pa55-w0rd')).toBe(`password ${REDACTED}`);
  });

  it('redacts a bound value whatever its length (the global redactor skips values under 6)', () => {
    const r = new BoundRedaction(['k9']);
    expect(r.redact('token=k9;')).toBe(`token=${REDACTED};`);
    expect(echoForms('k9')).not.toContain(''); // no empty form
    expect(echoForms('')).toEqual([]);
  });

  it('survives a lone surrogate', () => {
    expect(() => echoForms('ab\uD800cdefgh')).not.toThrow();
  });

  it('SecretRedactor.bound prepares each set once', () => {
    const redactor = new SecretRedactor();
    const first = redactor.bound(['aaaaaaaa', 'bbbbbbbb']);
    expect(redactor.bound(['bbbbbbbb', 'aaaaaaaa'])).toBe(first);
    expect(redactor.bound([])).toBe(BoundRedaction.EMPTY);
    for (let i = 0; i < SecretRedactor.BOUND_CACHE_SIZE; i++) redactor.bound([`value-${i}`]);
    expect(redactor.bound(['aaaaaaaa', 'bbbbbbbb'])).not.toBe(first);
  });
});

describe('redactedExcerpt: redact before cutting', () => {
  const secret = 'SECRET_VALUE_A_canary123';
  const excerpt = redactedExcerpt(new BoundRedaction([secret]), 2048);

  it('a value straddling the 2 KiB cut leaves no prefix behind', () => {
    for (let pad = 2048 - secret.length; pad <= 2048; pad++) {
      const body = Buffer.from(`${'x'.repeat(pad)}Bearer ${secret} tail`);
      const out = excerpt(body, true);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(2048);
      for (let k = 4; k <= secret.length; k++) expect(out).not.toContain(secret.slice(0, k));
    }
  });

  it('a value cut by the read limit leaves no prefix behind', () => {
    const body = Buffer.from(`${secret} ${secret.slice(0, 20)}`);
    expect(excerpt(body, false)).not.toContain(secret.slice(0, 10));
    expect(excerpt(body, true)).toBe(`${REDACTED} ${secret.slice(0, 20)}`);
  });

  it('keeps an excerpt without secrets as it was', () => {
    expect(excerpt(Buffer.from('ok'), true)).toBe('ok');
    expect(excerpt(Buffer.alloc(0), true)).toBe('');
  });

  it('stays cheap: 64 KiB with 20 bound values in well under 10 ms', () => {
    const values = Array.from({ length: 20 }, (_, i) => `secret-number-${i}-${'z'.repeat(40)}`);
    const r = new BoundRedaction(values);
    const run = redactedExcerpt(r);
    const body = Buffer.from('a'.repeat(65536));
    run(body, false);
    const started = performance.now();
    for (let i = 0; i < 10; i++) run(body, false);
    expect((performance.now() - started) / 10).toBeLessThan(10);
  });
});
