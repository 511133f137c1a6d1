import { VALOHAI_EXECUTION_COMPLETED, asReceived, validEvents } from '../../../test/support/senders';
import { hashApiKey } from '../../auth/api-key-format';
import { executionUrl, valohaiSender } from './valohai';

const TOKEN = 'hrs_8wqvM0b6m2N8j3kq0pUeE9Yw3k1cVn5s2x7LrTzQdHg';
const context = { sourceId: 'src_vh', project: 'mnist' };

describe('valohai sender: authentication (the receive URL\'s token)', () => {
  const request = (token: string | null) => asReceived({ headers: {}, body: JSON.stringify(VALOHAI_EXECUTION_COMPLETED) }, token);

  it('accepts the token whose hash is stored, refuses another or none', () => {
    expect(valohaiSender.authenticate(request(TOKEN), hashApiKey(TOKEN), 0)).toEqual({ ok: true });
    expect(valohaiSender.authenticate(request(`${TOKEN}x`), hashApiKey(TOKEN), 0)).toEqual({ ok: false, reason: 'the receive URL\'s token is wrong' });
    expect(valohaiSender.authenticate(request(null), hashApiKey(TOKEN), 0)).toEqual({ ok: false, reason: expect.stringMatching(/token is missing/) });
  });

  it('reads the execution id for a refused request\'s receipt', () => {
    expect(valohaiSender.claimedId(request(null))).toBe('0178f482-8686-fb28-8af1-3d36af38079d');
  });
});

describe('valohai sender: mapping (the example message in the Valohai notification docs)', () => {
  const map = (payload: object) => valohaiSender.map(payload, asReceived({ headers: {}, body: '' }), context);

  it('execution_completed → RUN_STATE FINISHED of the execution, by its creator, with its URL', () => {
    const mapping = map(VALOHAI_EXECUTION_COMPLETED);
    expect(mapping).toMatchObject({ senderId: '0178f482-8686-fb28-8af1-3d36af38079d', senderEvent: 'execution_completed' });
    expect(validEvents(mapping)).toEqual([
      {
        id: expect.stringMatching(/^valohai-[0-9a-f]{40}$/),
        type: 'RUN_STATE',
        project: 'mnist',
        author: 'demouser',
        run: {
          id: '0178f482-8686-fb28-8af1-3d36af38079d',
          name: 'demo/cool-tensorflow/#736',
          state: 'FINISHED',
          url: 'https://app.demo.com/p/demo/cool-tensorflow/execution/0178f482-8686-fb28-8af1-3d36af38079d/',
        },
      },
    ]);
  });

  it('a failed execution → FAILED: type execution_failed, or a completion whose status is error; stopped → KILLED', () => {
    const withStatus = (type: string, status: string) => ({ ...VALOHAI_EXECUTION_COMPLETED, type, data: { ...VALOHAI_EXECUTION_COMPLETED.data, 'valohai.execution-status': status } });
    expect(map(withStatus('execution_failed', 'error'))).toMatchObject({ events: [{ run: { state: 'FAILED' } }] });
    expect(map(withStatus('execution_completed', 'error'))).toMatchObject({ events: [{ run: { state: 'FAILED' } }] });
    expect(map(withStatus('execution_completed', 'stopped'))).toMatchObject({ events: [{ run: { state: 'KILLED' } }] });
    // Each outcome of an execution is its own event; the same message again is the same event.
    const ids = [map(withStatus('execution_failed', 'error')), map(withStatus('execution_completed', 'complete')), map(withStatus('execution_failed', 'error'))].map(
      (m) => (m.outcome === 'events' ? m.events[0].id : null),
    );
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[2]).toBe(ids[0]);
  });

  it('an execution title, when set, names the run', () => {
    const titled = { ...VALOHAI_EXECUTION_COMPLETED, data: { ...VALOHAI_EXECUTION_COMPLETED.data, 'valohai.execution-title': 'baseline' } };
    expect(map(titled)).toMatchObject({ events: [{ run: { name: 'baseline' } }] });
  });

  it('tasks and deployments are ignored; a message without the execution id or type is invalid', () => {
    expect(map({ ...VALOHAI_EXECUTION_COMPLETED, type: 'task_completed' })).toMatchObject({ outcome: 'ignored', senderEvent: 'task_completed' });
    expect(map({ ...VALOHAI_EXECUTION_COMPLETED, data: {} })).toMatchObject({ outcome: 'invalid' });
    expect(map({ title: 'x' })).toMatchObject({ outcome: 'invalid' });
  });

  it('resolves the execution path against the installation the body links, else app.valohai.com', () => {
    expect(executionUrl('/p/a/b/execution/1/', 'see [x](https://valohai.internal.example/p/a/b/execution/1/)')).toBe('https://valohai.internal.example/p/a/b/execution/1/');
    expect(executionUrl('/p/a/b/execution/1/', 'no link')).toBe('https://app.valohai.com/p/a/b/execution/1/');
    expect(executionUrl('https://elsewhere.example/x', undefined)).toBe('https://elsewhere.example/x');
    expect(executionUrl('relative/path', undefined)).toBeUndefined();
  });
});
