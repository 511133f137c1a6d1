import { REDACTED, SecretRedactor } from './redactor';

describe('SecretRedactor', () => {
  it('scrubs remembered values wherever they appear in text', () => {
    const r = new SecretRedactor();
    r.remember('s3cr3t-value');
    expect(r.redactText('token=s3cr3t-value; again s3cr3t-value.')).toBe(`token=${REDACTED}; again ${REDACTED}.`);
  });

  it('replaces the longest value first and escapes regex characters', () => {
    const r = new SecretRedactor();
    r.remember('abc.def');
    r.remember('abc.def(ghi)');
    expect(r.redactText('x abc.def(ghi) y abc.def z abcXdef')).toBe(`x ${REDACTED} y ${REDACTED} z abcXdef`);
  });

  it('ignores values too short to scrub safely, and forgets on request', () => {
    const r = new SecretRedactor();
    r.remember('ab');
    expect(r.redactText('ab ab')).toBe('ab ab');
    r.remember('longsecret');
    r.forget('longsecret');
    expect(r.redactText('longsecret')).toBe('longsecret');
  });

  it('redacts sensitive keys and remembered values deep inside objects without mutating them', () => {
    const r = new SecretRedactor();
    r.remember('hunter2hunter2');
    const input = {
      headers: { Authorization: 'Bearer x', accept: 'json' },
      nested: [{ note: 'pw is hunter2hunter2' }],
      signingSecret: 'whsec_abc',
      count: 3,
      empty: null,
    };
    const out = r.redact(input);
    expect(out).toEqual({
      headers: { Authorization: REDACTED, accept: 'json' },
      nested: [{ note: `pw is ${REDACTED}` }],
      signingSecret: REDACTED,
      count: 3,
      empty: null,
    });
    expect(input.headers.Authorization).toBe('Bearer x');
  });

  it('turns errors into plain redacted objects and survives cycles', () => {
    const r = new SecretRedactor();
    r.remember('topsecret!');
    const cyclic: Record<string, unknown> = { msg: 'topsecret!' };
    cyclic.self = cyclic;
    const out = r.redact({ err: new Error('failed with topsecret!'), cyclic }) as Record<string, any>;
    expect(out.err.message).toBe(`failed with ${REDACTED}`);
    expect(out.cyclic).toEqual({ msg: REDACTED, self: '[circular]' });
  });
});

describe('SecretRedactor with large and many values', () => {
  it('scrubs 64 KiB values', () => {
    const r = new SecretRedactor();
    const big = 'x'.repeat(64 * 1024);
    r.remember(big);
    r.remember('another-secret');
    expect(r.redactText(`a ${big} b another-secret`)).toBe(`a ${REDACTED} b ${REDACTED}`);
  });

  it('forgets the oldest values past the cap', () => {
    const r = new SecretRedactor();
    for (let i = 0; i <= SecretRedactor.MAX_VALUES; i++) r.remember(`secret-${i}`);
    expect(r.redactText('secret-0')).toBe('secret-0');
    expect(r.redactText(`secret-${SecretRedactor.MAX_VALUES}`)).toBe(REDACTED);
  });
});
