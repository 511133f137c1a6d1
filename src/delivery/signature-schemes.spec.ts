import { createPublicKey, verify as verifyWithKey } from 'node:crypto';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { generateEd25519Secret } from './ed25519-keys';
import {
  signatureHeaders,
  signingSecretProblem,
  verifyDetermined,
  verifyGithub,
  verifyStandard,
  verifyStandardEd25519,
  verifyWandb,
} from './signature-schemes';

// Shared fixture. The body carries a non-ASCII character so UTF-8 handling is covered.
const BODY = '{"event_type":"RUN_STATE","run":{"name":"bert-ü"}}';
const STANDARD_SECRET = 'whsec_6su5X+BOQaaNQLYnq6L9j44tPXUHF+26Yx6PZGdvBXs=';
const MESSAGE = { id: 'msg_test_0001', timestampSeconds: 1700000000, body: BODY };

describe('standard scheme', () => {
  // KEYHEX=$(printf '%s' '6su5X+BOQaaNQLYnq6L9j44tPXUHF+26Yx6PZGdvBXs=' | base64 -d | od -An -tx1 | tr -d ' \n')
  // printf '%s' "msg_test_0001.1700000000.$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEYHEX -binary | base64
  const EXPECTED = 'v1,e9W4v/G0pWvDj9M40lI4kWGCdQ1fU5L+yc5nPNNb794=';

  it('matches the openssl vector', () => {
    expect(signatureHeaders(['standard'], STANDARD_SECRET, MESSAGE)).toEqual({
      'webhook-id': 'msg_test_0001',
      'webhook-timestamp': '1700000000',
      'webhook-signature': EXPECTED,
    });
  });

  it('accepts the same key without the whsec_ prefix', () => {
    const headers = signatureHeaders(['standard'], STANDARD_SECRET.slice('whsec_'.length), MESSAGE);
    expect(headers['webhook-signature']).toBe(EXPECTED);
  });

  it('verifies its own headers and rejects tampering, a wrong secret and old or future timestamps', () => {
    const headers = signatureHeaders(['standard'], STANDARD_SECRET, MESSAGE);
    const now = MESSAGE.timestampSeconds;
    expect(verifyStandard(STANDARD_SECRET, headers, BODY, now)).toBe(true);
    expect(verifyStandard(STANDARD_SECRET, headers, BODY, now + 300)).toBe(true);
    expect(verifyStandard(STANDARD_SECRET, headers, BODY.replace('ü', 'u'), now)).toBe(false);
    expect(verifyStandard(STANDARD_SECRET, headers, BODY + ' ', now)).toBe(false);
    expect(verifyStandard('whsec_' + Buffer.alloc(32, 7).toString('base64'), headers, BODY, now)).toBe(false);
    expect(verifyStandard(STANDARD_SECRET, headers, BODY, now + 301)).toBe(false);
    expect(verifyStandard(STANDARD_SECRET, headers, BODY, now - 301)).toBe(false);
    expect(verifyStandard(STANDARD_SECRET, { ...headers, 'webhook-id': 'msg_other' }, BODY, now)).toBe(false);
    expect(verifyStandard(STANDARD_SECRET, { ...headers, 'webhook-timestamp': '1700000001' }, BODY, now)).toBe(false);
  });

  it('accepts any one of several space-separated signatures and header names in any case', () => {
    const headers = signatureHeaders(['standard'], STANDARD_SECRET, MESSAGE);
    const rotated = {
      'Webhook-Id': headers['webhook-id'],
      'Webhook-Timestamp': headers['webhook-timestamp'],
      'Webhook-Signature': `v1,${Buffer.alloc(32).toString('base64')} ${headers['webhook-signature']}`,
    };
    expect(verifyStandard(STANDARD_SECRET, rotated, BODY, MESSAGE.timestampSeconds)).toBe(true);
    const wrongVersion = { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') };
    expect(verifyStandard(STANDARD_SECRET, wrongVersion, BODY, MESSAGE.timestampSeconds)).toBe(false);
  });

  it('is accepted by the standardwebhooks library', () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders(['standard'], STANDARD_SECRET, { ...MESSAGE, timestampSeconds: now });
    expect(() => new Webhook(STANDARD_SECRET).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(STANDARD_SECRET).verify(BODY + 'x', headers)).toThrow();
    // And ours accepts what the library signs.
    const librarySignature = new Webhook(STANDARD_SECRET).sign('msg_lib', new Date(now * 1000), BODY);
    const libraryHeaders = { 'webhook-id': 'msg_lib', 'webhook-timestamp': String(now), 'webhook-signature': librarySignature };
    expect(verifyStandard(STANDARD_SECRET, libraryHeaders, BODY, now)).toBe(true);
  });
});

describe('signingSecretProblem', () => {
  it.each([
    STANDARD_SECRET,
    STANDARD_SECRET.slice('whsec_'.length),
    'whsec_' + Buffer.alloc(24, 1).toString('base64'), // exactly 24 bytes, no padding needed
    Buffer.alloc(64, 9).toString('base64'),
  ])('accepts a valid standard secret %#', (secret) => {
    expect(signingSecretProblem('standard', secret)).toBeNull();
  });

  it.each([
    ['too short', 'whsec_' + Buffer.alloc(23, 1).toString('base64')],
    ['not base64', 'whsec_this is not base64 at all!!'],
    ['base64url alphabet', 'whsec_' + Buffer.alloc(30, 0xfb).toString('base64url')],
    ['missing padding', STANDARD_SECRET.slice(0, -1)],
    ['non-canonical last character', 'whsec_6su5X+BOQaaNQLYnq6L9j44tPXUHF+26Yx6PZGdvBXt='],
    ['embedded whitespace', 'whsec_6su5X+BOQaaNQLYnq6L9j44t PXUHF+26Yx6PZGdvBXs='],
    ['prefix only', 'whsec_'],
    ['empty', ''],
    ['a hex secret', 'a'.repeat(63)],
  ])('refuses a standard secret that is %s', (_label, secret) => {
    expect(signingSecretProblem('standard', secret)).toMatch(/base64 of at least 24 bytes|must not be empty/);
  });

  it('takes any non-empty secret for the verbatim-key schemes', () => {
    for (const scheme of ['wandb', 'determined', 'github'] as const) {
      expect(signingSecretProblem(scheme, 'x')).toBeNull();
      expect(signingSecretProblem(scheme, 'whsec_anything goes ✓')).toBeNull();
      expect(signingSecretProblem(scheme, '')).toBe(`must not be empty for the ${scheme} scheme`);
    }
  });

  it('makes signatureHeaders throw instead of signing with an unusable secret', () => {
    expect(() => signatureHeaders(['wandb', 'standard'], 'short', MESSAGE)).toThrow(/standard scheme/);
  });
});

describe('wandb scheme', () => {
  // The key is the secret's UTF-8 bytes verbatim, whsec_ prefix included:
  // printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'whsec_6su5X+BOQaaNQLYnq6L9j44tPXUHF+26Yx6PZGdvBXs='
  const EXPECTED = '680a1789fbd19038fed4879dfdd681ade6f75ec3722bfa7be2c0744be4801209';

  it('matches the openssl vector', () => {
    expect(signatureHeaders(['wandb'], STANDARD_SECRET, MESSAGE)).toEqual({ 'X-Wandb-Signature': EXPECTED });
  });

  it('matches the W&B automations docs script for its sample payload', () => {
    // SECRET='whsec_not-base64 wandb secret'; PAYLOAD='{"key1": "value1", "key2": "value2"}'
    // echo -n "$PAYLOAD" | openssl dgst -sha256 -hmac "$SECRET"
    const body = '{"key1": "value1", "key2": "value2"}';
    const headers = signatureHeaders(['wandb'], 'whsec_not-base64 wandb secret', { ...MESSAGE, body });
    expect(headers['X-Wandb-Signature']).toBe('1b1261c4aa445badead9657565eb187796b9192ec9a5b0a045e7a3df8d2ba6e5');
  });

  it('verifies, in either hex case, and rejects tampering or a wrong secret', () => {
    expect(verifyWandb(STANDARD_SECRET, BODY, EXPECTED)).toBe(true);
    expect(verifyWandb(STANDARD_SECRET, BODY, EXPECTED.toUpperCase())).toBe(true);
    expect(verifyWandb(STANDARD_SECRET, BODY + ' ', EXPECTED)).toBe(false);
    expect(verifyWandb(STANDARD_SECRET.slice('whsec_'.length), BODY, EXPECTED)).toBe(false);
    expect(verifyWandb(STANDARD_SECRET, BODY, EXPECTED.slice(0, -1))).toBe(false);
    expect(verifyWandb(STANDARD_SECRET, BODY, '')).toBe(false);
  });
});

describe('determined scheme', () => {
  // Determined's own test vector (key "testsigningkey").
  // printf '%s' "1666890081,$BODY" | openssl dgst -sha256 -hmac testsigningkey
  const body =
    '{"id":1,"state":"COMPLETED","name":"test-name","duration":1,"resource_pool":"default","slots_per_trial":1,"workspace":"workspace","project":"project"}';
  const EXPECTED = '899cc042278415da7d91605ffefe81376d64a4d842aa5663cd614f497f88910f';

  it("matches Determined's vector", () => {
    const headers = signatureHeaders(['determined'], 'testsigningkey', { id: 'msg_x', timestampSeconds: 1666890081, body });
    expect(headers).toEqual({
      'X-Determined-AI-Signature-Timestamp': '1666890081',
      'X-Determined-AI-Signature': EXPECTED,
    });
  });

  it('verifies and rejects tampering, a wrong secret or another timestamp', () => {
    expect(verifyDetermined('testsigningkey', body, '1666890081', EXPECTED)).toBe(true);
    expect(verifyDetermined('testsigningkey', body.replace('"id":1', '"id":2'), '1666890081', EXPECTED)).toBe(false);
    expect(verifyDetermined('testsigningkeY', body, '1666890081', EXPECTED)).toBe(false);
    expect(verifyDetermined('testsigningkey', body, '1666890082', EXPECTED)).toBe(false);
    expect(verifyDetermined('testsigningkey', body, '1666890081x', EXPECTED)).toBe(false);
  });
});

describe('github scheme', () => {
  // printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'gh-secret-ü'
  const SECRET = 'gh-secret-ü';
  const EXPECTED = 'sha256=463b104dc4560148c1ea36fa9ce6fea04d06133144e7dbe9873d7c00828c077e';

  it('matches the openssl vector', () => {
    expect(signatureHeaders(['github'], SECRET, MESSAGE)).toEqual({ 'X-Hub-Signature-256': EXPECTED });
  });

  it('is accepted by @octokit/webhooks-methods', async () => {
    await expect(octokitVerify(SECRET, BODY, EXPECTED)).resolves.toBe(true);
    await expect(octokitVerify(SECRET, BODY + '\n', EXPECTED)).resolves.toBe(false);
  });

  it('verifies and rejects tampering, a wrong secret or a missing prefix', () => {
    expect(verifyGithub(SECRET, BODY, EXPECTED)).toBe(true);
    expect(verifyGithub(SECRET, BODY.replace('ü', 'ue'), EXPECTED)).toBe(false);
    expect(verifyGithub('gh-secret-u', BODY, EXPECTED)).toBe(false);
    expect(verifyGithub(SECRET, BODY, EXPECTED.slice('sha256='.length))).toBe(false);
    expect(verifyGithub(SECRET, BODY, EXPECTED.replace('sha256=', 'sha1='))).toBe(false);
  });
});

describe('signatureHeaders', () => {
  it('combines schemes, shares one timestamp and ignores a repeated scheme', () => {
    const headers = signatureHeaders(['standard', 'wandb', 'determined', 'github', 'github'], STANDARD_SECRET, MESSAGE);
    expect(Object.keys(headers).sort()).toEqual([
      'X-Determined-AI-Signature',
      'X-Determined-AI-Signature-Timestamp',
      'X-Hub-Signature-256',
      'X-Wandb-Signature',
      'webhook-id',
      'webhook-signature',
      'webhook-timestamp',
    ]);
    expect(headers['X-Determined-AI-Signature-Timestamp']).toBe(headers['webhook-timestamp']);
  });

  it('signs nothing for no scheme', () => {
    expect(signatureHeaders([], STANDARD_SECRET, MESSAGE)).toEqual({});
  });

  it('refuses a fractional or negative timestamp', () => {
    expect(() => signatureHeaders(['github'], 'x', { ...MESSAGE, timestampSeconds: 1.5 })).toThrow(/integer/);
    expect(() => signatureHeaders(['github'], 'x', { ...MESSAGE, timestampSeconds: -1 })).toThrow(/integer/);
  });
});

describe('standard scheme: the Standard Webhooks reference vector', () => {
  // The test vector of the Standard Webhooks reference libraries.
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const VECTOR = { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestampSeconds: 1614265330, body: '{"test": 2432232314}' };
  const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

  it('signs it exactly', () => {
    expect(signatureHeaders(['standard'], SECRET, VECTOR)).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': SIGNATURE,
    });
  });

  it('verifies it, and the library signs the same', () => {
    const headers = { 'webhook-id': VECTOR.id, 'webhook-timestamp': '1614265330', 'webhook-signature': SIGNATURE };
    expect(verifyStandard(SECRET, headers, VECTOR.body, VECTOR.timestampSeconds)).toBe(true);
    expect(new Webhook(SECRET).sign(VECTOR.id, new Date(VECTOR.timestampSeconds * 1000), VECTOR.body)).toBe(SIGNATURE);
  });
});

describe('standard scheme during a rotation: several signatures in one header', () => {
  const NEW = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
  const OLD = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
  const OLDER = 'whsec_' + Buffer.alloc(24, 3).toString('base64');
  const now = () => Math.floor(Date.now() / 1000);
  const current = () => ({ ...MESSAGE, timestampSeconds: now() });

  it('sends the current value first, then each previous one, space-separated', () => {
    const headers = signatureHeaders(['standard'], NEW, MESSAGE, [OLD, OLDER]);
    const alone = (secret: string) => signatureHeaders(['standard'], secret, MESSAGE)['webhook-signature'];
    expect(headers['webhook-signature']).toBe([alone(NEW), alone(OLD), alone(OLDER)].join(' '));
  });

  it('verifies with the new value and with every old one through the standardwebhooks library, not with another', () => {
    const message = current();
    const headers = signatureHeaders(['standard'], NEW, message, [OLD, OLDER]);
    for (const secret of [NEW, OLD, OLDER]) {
      expect(() => new Webhook(secret).verify(message.body, headers)).not.toThrow();
      expect(verifyStandard(secret, headers, message.body, message.timestampSeconds)).toBe(true);
    }
    expect(() => new Webhook(STANDARD_SECRET).verify(message.body, headers)).toThrow();
  });

  it('leaves out a previous value the scheme cannot use and a repeat of the current value', () => {
    const headers = signatureHeaders(['standard'], NEW, MESSAGE, ['not base64 at all', NEW, OLD, OLD]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
  });

  it('signs the single-signature schemes with the current value only', () => {
    const rotated = signatureHeaders(['wandb', 'determined', 'github'], NEW, MESSAGE, [OLD]);
    expect(rotated).toEqual(signatureHeaders(['wandb', 'determined', 'github'], NEW, MESSAGE));
    expect(verifyWandb(NEW, BODY, rotated['X-Wandb-Signature'])).toBe(true);
    expect(verifyWandb(OLD, BODY, rotated['X-Wandb-Signature'])).toBe(false);
  });

  it('mixes an Ed25519 key and an HMAC secret: v1a for the key, v1 for the secret', () => {
    const { secret: key, publicKey } = generateEd25519Secret();
    const message = current();
    const headers = signatureHeaders(['standard'], key, message, [OLD]);
    expect(headers['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}== v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyStandardEd25519(publicKey, headers, message.body, message.timestampSeconds)).toBe(true);
    expect(() => new Webhook(OLD).verify(message.body, headers)).not.toThrow();
  });
});

describe('standard scheme with an Ed25519 key (v1a)', () => {
  const { secret, publicKey } = generateEd25519Secret();

  it('signs v1a over id.timestamp.body, which Node verifies with the public key alone', () => {
    const headers = signatureHeaders(['standard'], secret, MESSAGE);
    const [version, signature] = headers['webhook-signature'].split(',');
    expect(version).toBe('v1a');
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey.slice(5), 'base64')]), format: 'der', type: 'spki' });
    const signed = Buffer.from(`${MESSAGE.id}.${MESSAGE.timestampSeconds}.${BODY}`);
    expect(verifyWithKey(null, signed, key, Buffer.from(signature, 'base64'))).toBe(true);
    expect(verifyWithKey(null, Buffer.concat([signed, Buffer.from(' ')]), key, Buffer.from(signature, 'base64'))).toBe(false);
  });

  it('verifies with its public key only: not another key, not a changed body or an old timestamp', () => {
    const headers = signatureHeaders(['standard'], secret, MESSAGE);
    const now = MESSAGE.timestampSeconds;
    expect(verifyStandardEd25519(publicKey, headers, BODY, now)).toBe(true);
    expect(verifyStandardEd25519(generateEd25519Secret().publicKey, headers, BODY, now)).toBe(false);
    expect(verifyStandardEd25519(publicKey, headers, BODY + ' ', now)).toBe(false);
    expect(verifyStandardEd25519(publicKey, headers, BODY, now + 301)).toBe(false);
    expect(verifyStandardEd25519(publicKey, { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1a,', 'v1,') }, BODY, now)).toBe(false);
  });

  it('is refused by the HMAC schemes and checked for shape by the standard scheme', () => {
    expect(signingSecretProblem('standard', secret)).toBeNull();
    for (const scheme of ['wandb', 'determined', 'github'] as const) {
      expect(signingSecretProblem(scheme, secret)).toMatch(/Ed25519 key .* only the standard scheme/);
    }
    expect(signingSecretProblem('standard', 'whsk_' + Buffer.alloc(31).toString('base64'))).toMatch(/must be whsk_ followed by base64/);
    expect(() => signatureHeaders(['github'], secret, MESSAGE)).toThrow(/Ed25519 key/);
  });
});
