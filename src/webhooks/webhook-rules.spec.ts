import {
  type WebhookSpec,
  boundSecretNames,
  defaultSchemes,
  deliverySettingsOf,
  effectiveDeliverySettings,
  headerProblems,
  referencedSecretNames,
  specProblems,
  urlProblem,
} from './webhook-rules';

const spec = (over: Partial<WebhookSpec> = {}): WebhookSpec => ({
  name: 'w',
  url: 'https://example.org/hook',
  kind: 'generic',
  accessTokenSecret: null,
  signingSecret: null,
  signatureSchemes: [],
  payloadSecrets: [],
  headers: {},
  delivery: {},
  enabled: true,
  disabledReason: null,
  ...over,
});

describe('urlProblem', () => {
  it.each(['https://example.org', 'http://127.0.0.1:8080/x?y=1', 'https://[::1]/p'])('accepts %s', (url) => {
    expect(urlProblem(url)).toBeNull();
  });
  it.each([
    ['example.org/hook', /absolute/],
    ['ftp://example.org', /not ftp/],
    ['file:///etc/passwd', /not file/],
    ['https://u:p@example.org', /credentials/],
    ['https://u@example.org', /credentials/],
    ['https://example.org/#frag', /fragment/],
  ])('refuses %s', (url, reason) => {
    expect(urlProblem(url)).toMatch(reason);
  });
});

describe('delivery settings', () => {
  it('overlays the admin\'s settings on the kind\'s defaults', () => {
    expect(effectiveDeliverySettings('slack', {})).toMatchObject({ ratePerSecond: 1, burst: 1, maxAttempts: 8 });
    expect(effectiveDeliverySettings('slack', { maxAttempts: 2 })).toMatchObject({ ratePerSecond: 1, maxAttempts: 2 });
    expect(effectiveDeliverySettings('generic', {})).toMatchObject({ ratePerSecond: null, burst: null });
  });
  it('drops the burst without a rate and derives it from the rate when not given', () => {
    expect(effectiveDeliverySettings('slack', { ratePerSecond: null })).toMatchObject({ ratePerSecond: null, burst: null });
    expect(effectiveDeliverySettings('generic', { ratePerSecond: 2.5 })).toMatchObject({ ratePerSecond: 2.5, burst: 3 });
    expect(effectiveDeliverySettings('generic', { ratePerSecond: 2, burst: 10 })).toMatchObject({ burst: 10 });
  });
  it('deliverySettingsOf works them out once per row read, read-only; a row read again (an edit) gets its own', () => {
    const row = { kind: 'generic' as const, delivery: { ratePerSecond: 2 } };
    const settings = deliverySettingsOf(row);
    expect(settings).toEqual(effectiveDeliverySettings('generic', { ratePerSecond: 2 }));
    expect(deliverySettingsOf(row)).toBe(settings);
    expect(Object.isFrozen(settings)).toBe(true);
    const edited = { kind: 'generic' as const, delivery: { ratePerSecond: 5, maxAttempts: 2 } };
    expect(deliverySettingsOf(edited)).toMatchObject({ ratePerSecond: 5, burst: 5, maxAttempts: 2 });
  });
});

describe('secret names', () => {
  it('binds payload secrets, the signing secret and ACCESS_TOKEN for the access token', () => {
    const s = spec({ accessTokenSecret: 'GH_TOKEN', signingSecret: 'SIGN', payloadSecrets: ['A', 'SIGN'] });
    expect(boundSecretNames(s).sort()).toEqual(['A', 'ACCESS_TOKEN', 'SIGN']);
    expect(referencedSecretNames(s).sort()).toEqual(['A', 'GH_TOKEN', 'SIGN']);
  });
  it('defaults to the standard scheme only with a signing secret', () => {
    expect(defaultSchemes(null)).toEqual([]);
    expect(defaultSchemes('SIGN')).toEqual(['standard']);
  });
});

describe('specProblems', () => {
  it('accepts a complete webhook', () => {
    expect(
      specProblems(
        spec({ signingSecret: 'S', signatureSchemes: ['github'], payloadSecrets: ['A'], headers: { 'X-A': 'v ${A} $$ $S' } }),
      ),
    ).toEqual([]);
  });
  it('wants a signing secret for schemes', () => {
    expect(specProblems(spec({ signatureSchemes: ['wandb'] }))).toEqual([
      { field: 'signatureSchemes', reason: 'need a signingSecret to sign with' },
    ]);
  });
  it('refuses ACCESS_TOKEN as a secret name to bind', () => {
    expect(specProblems(spec({ accessTokenSecret: 'ACCESS_TOKEN' }))[0].field).toBe('accessTokenSecret');
    expect(specProblems(spec({ payloadSecrets: ['ACCESS_TOKEN'] }))[0].field).toBe('payloadSecrets');
  });
});

describe('headerProblems', () => {
  it.each(['Host', 'authorization', 'Content-Type', 'X-Herald-Event', 'webhook-signature', 'X-Wandb-Signature', 'User-Agent'])(
    'refuses the reserved header %s',
    (name) => {
      const problems = headerProblems({ [name]: 'x' }, []);
      expect(problems).toHaveLength(1);
      expect(problems[0].field).toBe(`headers.${name}`);
    },
  );
  it('refuses unbound secrets, variables, header injection, non-strings and case-duplicates', () => {
    expect(headerProblems({ 'X-A': '${NOPE}' }, ['A'])[0].reason).toMatch(/NOPE.*not bound.*bound secrets: A/);
    expect(headerProblems({ 'X-A': '${run_name}' }, [])).toHaveLength(1);
    expect(headerProblems({ 'X-A': 'a\nb' }, [])[0].reason).toMatch(/CR, LF/);
    expect(headerProblems({ 'X-A': 5 }, [])[0].reason).toBe('must be a string');
    expect(headerProblems({ 'X-A': '1', 'x-a': '2' }, [])[0].reason).toMatch(/twice/);
    expect(headerProblems({ 'X-A': 'x'.repeat(8193) }, [])[0].reason).toMatch(/at most 8192/);
  });
  it('accepts ACCESS_TOKEN when bound', () => {
    expect(headerProblems({ 'X-Token': 'token ${ACCESS_TOKEN}' }, ['ACCESS_TOKEN'])).toEqual([]);
  });
});
