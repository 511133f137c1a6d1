import { DeliveryRequestError, SIGNED_AT_EACH_ATTEMPT, buildDeliveryRequest, describeDeliveryRequest, reservedHeaderReason, type DeliveryRequestInput } from './delivery-request';
import { verifyDetermined, verifyGithub, verifyStandard, verifyWandb } from './signature-schemes';

const SECRET = 'whsec_6su5X+BOQaaNQLYnq6L9j44tPXUHF+26Yx6PZGdvBXs=';
const NOW_MS = 1_764_000_123_999;

function input(overrides: Partial<DeliveryRequestInput> = {}): DeliveryRequestInput {
  return {
    url: 'https://hooks.example.com/in',
    kind: 'generic',
    body: '{"event_type":"RUN_STATE"}',
    deliveryId: 'msg_01',
    eventType: 'RUN_STATE',
    version: '0.1.0',
    accessToken: null,
    signingSecret: null,
    schemes: [],
    extraHeaders: {},
    nowMs: NOW_MS,
    ...overrides,
  };
}

describe('buildDeliveryRequest', () => {
  it('sends the body unchanged with the base headers', () => {
    expect(buildDeliveryRequest(input())).toEqual({
      url: 'https://hooks.example.com/in',
      body: '{"event_type":"RUN_STATE"}',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Herald/0.1.0',
        'X-Herald-Event': 'RUN_STATE',
        'X-Herald-Delivery': 'msg_01',
      },
    });
  });

  it('adds the Bearer token when one is bound', () => {
    expect(buildDeliveryRequest(input({ accessToken: 'ghp_abc' })).headers.Authorization).toBe('Bearer ghp_abc');
  });

  it('adds GitHub headers for kind github only', () => {
    const github = buildDeliveryRequest(input({ kind: 'github' })).headers;
    expect(github.Accept).toBe('application/vnd.github+json');
    expect(github['X-GitHub-Api-Version']).toBe('2022-11-28');
    for (const kind of ['generic', 'slack', 'teams', 'discord'] as const) {
      const headers = buildDeliveryRequest(input({ kind })).headers;
      expect(headers.Accept).toBeUndefined();
      expect(headers['X-GitHub-Api-Version']).toBeUndefined();
    }
  });

  it('signs with every scheme, the delivery id and the current second', () => {
    const request = buildDeliveryRequest(
      input({ signingSecret: SECRET, schemes: ['standard', 'wandb', 'determined', 'github'] }),
    );
    const headers = request.headers;
    const nowSeconds = Math.floor(NOW_MS / 1000);
    expect(headers['webhook-id']).toBe('msg_01');
    expect(headers['webhook-timestamp']).toBe(String(nowSeconds));
    expect(headers['X-Determined-AI-Signature-Timestamp']).toBe(String(nowSeconds));
    expect(verifyStandard(SECRET, headers, request.body, nowSeconds)).toBe(true);
    expect(verifyWandb(SECRET, request.body, headers['X-Wandb-Signature'])).toBe(true);
    expect(verifyDetermined(SECRET, request.body, headers['X-Determined-AI-Signature-Timestamp'], headers['X-Determined-AI-Signature'])).toBe(true);
    expect(verifyGithub(SECRET, request.body, headers['X-Hub-Signature-256'])).toBe(true);
  });

  it('signs afresh at every attempt: a later clock gives a new timestamp and signature', () => {
    const first = buildDeliveryRequest(input({ signingSecret: SECRET, schemes: ['standard'] })).headers;
    const retry = buildDeliveryRequest(input({ signingSecret: SECRET, schemes: ['standard'], nowMs: NOW_MS + 30_000 })).headers;
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(Number(retry['webhook-timestamp']) - Number(first['webhook-timestamp'])).toBe(30);
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature']);
  });

  it('signs nothing without schemes, even with a secret', () => {
    const headers = buildDeliveryRequest(input({ signingSecret: SECRET })).headers;
    expect(Object.keys(headers).filter((name) => /signature|webhook-/i.test(name))).toEqual([]);
  });

  it('appends extra headers last, replacing kind defaults in any letter case', () => {
    const headers = buildDeliveryRequest(
      input({ kind: 'github', extraHeaders: { 'X-Team': 'ml', accept: 'application/json' } }),
    ).headers;
    expect(headers['X-Team']).toBe('ml');
    expect(headers.accept).toBe('application/json');
    expect(headers.Accept).toBeUndefined();
    expect(Object.keys(headers).at(-1)).toBe('accept');
  });

  it.each(['Authorization', 'content-type', 'HOST', 'X-Herald-Delivery', 'x-herald-anything', 'Webhook-Signature', 'X-Hub-Signature-256'])(
    'refuses reserved extra header %s',
    (name) => {
      expect(() => buildDeliveryRequest(input({ extraHeaders: { [name]: 'x' } }))).toThrow(DeliveryRequestError);
      expect(() => buildDeliveryRequest(input({ extraHeaders: { [name]: 'x' } }))).toThrow(`Header ${name} cannot be set: it `);
    },
  );

  it('refuses a value with a line break without echoing it', () => {
    const build = () => buildDeliveryRequest(input({ extraHeaders: { 'X-Token': 'secret-value\n' } }));
    expect(build).toThrow(/The value of header X-Token contains a line break/);
    expect(build).not.toThrow(/secret-value/);
    expect(() => buildDeliveryRequest(input({ accessToken: 'tok\r\nX-Evil: 1' }))).toThrow(/header Authorization/);
  });

  it('refuses schemes without a secret, and a secret unusable with a scheme', () => {
    expect(() => buildDeliveryRequest(input({ schemes: ['standard'] }))).toThrow('Signature schemes standard are set but no signing secret is bound');
    expect(() => buildDeliveryRequest(input({ schemes: ['standard'], signingSecret: 'too-short' }))).toThrow(
      /base64 of at least 24 bytes/,
    );
  });
});

describe('reservedHeaderReason', () => {
  it.each([
    ['Host', 'is set from the webhook URL'],
    ['Content-Type', 'is always application/json'],
    ['content-length', 'is computed from the body'],
    ['Authorization', "is set from the webhook's access token"],
    ['Transfer-Encoding', 'is managed by the HTTP client'],
    ['Connection', 'is managed by the HTTP client'],
    ['User-Agent', 'is always Herald/<version>'],
    ['X-Herald-Event', 'is reserved for Herald (X-Herald-*)'],
    ['x-herald-', 'is reserved for Herald (X-Herald-*)'],
    ['webhook-id', 'is a signature header'],
    ['webhook-timestamp', 'is a signature header'],
    ['webhook-signature', 'is a signature header'],
    ['X-Wandb-Signature', 'is a signature header'],
    ['X-Determined-AI-Signature', 'is a signature header'],
    ['X-Determined-AI-Signature-Timestamp', 'is a signature header'],
    ['X-Hub-Signature-256', 'is a signature header'],
    ['X-Hub-Signature', 'is a signature header'],
    ['', 'is not a valid HTTP header name'],
    ['X Custom', 'is not a valid HTTP header name'],
    ['X-Custom:', 'is not a valid HTTP header name'],
    ['X-Ünïcode', 'is not a valid HTTP header name'],
    ['X-Line\nBreak', 'is not a valid HTTP header name'],
  ])('%j %s', (name, reason) => {
    expect(reservedHeaderReason(name)).toBe(reason);
  });

  it.each(['X-Team', 'Accept', 'X-GitHub-Api-Version', 'X-Api-Key', 'x-heraldic', 'Webhook-Source', "X-!#$%&'*+.^_`|~"])(
    'lets a user set %s',
    (name) => {
      expect(reservedHeaderReason(name)).toBeNull();
    },
  );
});

describe('describeDeliveryRequest', () => {
  const delivery = { id: 'msg_1', eventType: 'RUN_STATE', body: '{"text":"${SLACK_SECRET}"}' };

  it('shows the headers an attempt sends with no secret resolved and no signature computed', () => {
    const shown = describeDeliveryRequest(
      {
        url: 'https://api.github.com/repos/o/r/dispatches',
        kind: 'github',
        accessTokenSecret: 'GITHUB_TOKEN',
        signatureSchemes: ['standard', 'github'],
        headers: { 'X-Team': 'ml', 'X-Api-Key': '${PARTNER_KEY}' },
      },
      delivery,
      '1.2.3',
    );
    expect(shown).toEqual({
      url: 'https://api.github.com/repos/o/r/dispatches',
      headers: {
        accept: 'application/json, text/plain, */*',
        'accept-encoding': 'gzip, deflate, br',
        'Content-Type': 'application/json',
        'User-Agent': 'Herald/1.2.3',
        'X-Herald-Event': 'RUN_STATE',
        'X-Herald-Delivery': 'msg_1',
        Authorization: 'Bearer ${GITHUB_TOKEN}',
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'webhook-id': 'msg_1',
        'webhook-timestamp': SIGNED_AT_EACH_ATTEMPT,
        'webhook-signature': SIGNED_AT_EACH_ATTEMPT,
        'X-Hub-Signature-256': SIGNED_AT_EACH_ATTEMPT,
        'X-Team': 'ml',
        'X-Api-Key': '${PARTNER_KEY}',
      },
    });
  });

  it('names the same signature headers buildDeliveryRequest sets', () => {
    for (const scheme of ['standard', 'wandb', 'determined', 'github'] as const) {
      const built = buildDeliveryRequest({
        url: 'https://r.example/h',
        kind: 'generic',
        body: '{}',
        deliveryId: 'msg_1',
        eventType: 'RUN_STATE',
        version: '1',
        accessToken: null,
        signingSecret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        schemes: [scheme],
        extraHeaders: {},
        nowMs: 1_700_000_000_000,
      });
      const shown = describeDeliveryRequest(
        { url: 'https://r.example/h', kind: 'generic', accessTokenSecret: null, signatureSchemes: [scheme], headers: {} },
        delivery,
        '1',
      );
      expect(Object.keys(shown.headers).sort()).toEqual(['accept', 'accept-encoding', ...Object.keys(built.headers)].sort());
    }
  });
});
