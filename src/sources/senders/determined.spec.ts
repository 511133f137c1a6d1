import { asReceived, determinedDelivery, determinedExperimentEvent, validEvents } from '../../../test/support/senders';
import { determinedSender } from './determined';

const KEY = 'cluster-webhook-signing-key';
const NOW = 1_665_689_991;
const context = { sourceId: 'src_1', project: 'fallback-project' };

describe('determined sender: authentication', () => {
  it('verifies Determined\'s own test vector (master/internal/webhooks/shipper_test.go, "payload signature generation should work")', () => {
    // json.Marshal(ExperimentPayload{ID: 1, State: "COMPLETED", Name: "test-name", Duration: 1,
    // ResourcePool: "default", SlotsPerTrial: 1, WorkspaceName: "workspace", ProjectName: "project"})
    const body = '{"id":1,"state":"COMPLETED","name":"test-name","duration":1,"resource_pool":"default","slots_per_trial":1,"workspace":"workspace","project":"project"}';
    const request = {
      headers: {
        'x-determined-ai-signature-timestamp': '1666890081',
        'x-determined-ai-signature': '899cc042278415da7d91605ffefe81376d64a4d842aa5663cd614f497f88910f',
      },
      body,
      token: null,
    };
    expect(determinedSender.authenticate(request, 'testsigningkey', 1666890081)).toEqual({ ok: true });
    expect(determinedSender.authenticate(request, 'testsigningkeY', 1666890081)).toEqual({
      ok: false,
      reason: expect.stringMatching(/X-Determined-AI-Signature header does not match/),
    });
    expect(determinedSender.authenticate({ ...request, body: body.replace('"id":1', '"id":2') }, 'testsigningkey', 1666890081).ok).toBe(false);
  });

  it('refuses a missing signature or timestamp, and a timestamp more than 5 minutes off', () => {
    const signed = asReceived(determinedDelivery(KEY, { event_id: 'e' }, NOW));
    expect(determinedSender.authenticate(signed, KEY, NOW)).toEqual({ ok: true });
    const without = (header: string) => {
      const headers = { ...signed.headers };
      delete headers[header];
      return determinedSender.authenticate({ ...signed, headers }, KEY, NOW);
    };
    expect(without('x-determined-ai-signature')).toEqual({ ok: false, reason: 'the X-Determined-AI-Signature header is missing' });
    expect(without('x-determined-ai-signature-timestamp')).toEqual({ ok: false, reason: 'the X-Determined-AI-Signature-Timestamp header is missing' });
    expect(determinedSender.authenticate(signed, KEY, NOW + 301)).toEqual({ ok: false, reason: expect.stringMatching(/301 s away from Herald's clock/) });
    expect(determinedSender.authenticate(signed, KEY, NOW - 300)).toEqual({ ok: true });
  });

  it('reads the event id from the body for a refused request\'s receipt', () => {
    expect(determinedSender.claimedId(asReceived(determinedDelivery(KEY, { event_id: 'b8667b8a-e14d-40e5-83ee-a64e31bdc5f4' }, NOW)))).toBe(
      'b8667b8a-e14d-40e5-83ee-a64e31bdc5f4',
    );
    expect(determinedSender.claimedId({ headers: {}, body: 'not json', token: null })).toBeNull();
  });
});

describe('determined sender: mapping', () => {
  const request = asReceived({ headers: {}, body: '' });
  const map = (payload: object) => determinedSender.map(payload, request, context);
  const events = (payload: object) => validEvents(map(payload));

  it('EXPERIMENT_STATE_CHANGE (the payload in the Determined webhook docs) → RUN_STATE FINISHED of the experiment, in the experiment\'s project', () => {
    // Seed 003: event_id 4cd26e62…, timestamp 1665689991, condition.state COMPLETED, experiment 41.
    const payload = determinedExperimentEvent(
      '4cd26e62-60c6-4a8b-8d03-7629091a4ef5',
      'EXPERIMENT_STATE_CHANGE',
      { id: 41, state: 'COMPLETED', name: 'cifar10_pytorch_const', project: 'test project' },
      1665689991,
    );
    expect(map(payload)).toMatchObject({ senderId: '4cd26e62-60c6-4a8b-8d03-7629091a4ef5', senderEvent: 'EXPERIMENT_STATE_CHANGE' });
    expect(events(payload)).toEqual([
      {
        id: '4cd26e62-60c6-4a8b-8d03-7629091a4ef5',
        type: 'RUN_STATE',
        occurredAt: '2022-10-13T19:39:51.000Z',
        project: 'test project',
        run: { id: '41', name: 'cifar10_pytorch_const', state: 'FINISHED' },
      },
    ]);
  });

  it.each([
    ['COMPLETED', 'FINISHED'],
    ['ERROR', 'FAILED'],
    ['ERRORED', 'FAILED'],
    ['CANCELED', 'KILLED'],
    ['STOPPED', 'KILLED'],
    ['ACTIVE', 'RUNNING'],
  ])('experiment state %s → run state %s', (determined, herald) => {
    const payload = determinedExperimentEvent('e', 'EXPERIMENT_STATE_CHANGE', { id: 7, state: determined, name: 'x', project: 'p' }, NOW);
    expect(events(payload)[0].run).toMatchObject({ state: herald });
  });

  it('a state without a Herald equivalent (PAUSED, STOPPING_COMPLETED) is ignored', () => {
    for (const state of ['PAUSED', 'STOPPING_COMPLETED', 'constructor']) {
      const payload = determinedExperimentEvent('e', 'EXPERIMENT_STATE_CHANGE', { id: 7, state, name: 'x', project: 'p' }, NOW);
      expect(map(payload)).toMatchObject({ outcome: 'ignored', reason: `experiment state ${state} has no Herald run state` });
    }
  });

  it('an experiment without a project name lands in the source\'s project', () => {
    const payload = determinedExperimentEvent('e', 'EXPERIMENT_STATE_CHANGE', { id: 7, state: 'COMPLETED', name: 'x', project: '' }, NOW);
    expect(events(payload)[0].project).toBe('fallback-project');
  });

  it('TASK_LOG (webhook.go TaskLogPayload) → RUN_LOG of the task, in the source\'s project, the line cut to 8 KiB', () => {
    const payload = {
      event_id: '0d1f1b9e-3c4b-4a57-9b1a-6a0f8e0c2d11',
      event_type: 'TASK_LOG',
      timestamp: NOW,
      condition: { regex: 'CUDA out of memory' },
      event_data: { task_log: { task_id: '12.3a7f', node_name: 'gpu-node-4', triggering_log: 'RuntimeError: CUDA out of memory. ' + 'x'.repeat(9000) } },
    };
    const [event] = events(payload);
    expect(event).toMatchObject({ id: payload.event_id, type: 'RUN_LOG', project: 'fallback-project', run: { id: '12.3a7f', name: '12.3a7f' } });
    expect(event.lines![0].startsWith('RuntimeError: CUDA out of memory.')).toBe(true);
    expect(Buffer.byteLength(event.lines![0])).toBe(8192);
  });

  it('CUSTOM (core_context.alert → custom_data {title, description, level}) → ALERT of the experiment', () => {
    const payload = determinedExperimentEvent(
      '6a3c2d1e-0000-4000-8000-000000000001',
      'CUSTOM',
      { id: 41, state: 'ACTIVE', name: 'cifar10', project: 'vision' },
      NOW,
      { title: 'Loss diverged', description: 'loss is NaN at step 1200', level: 'ERROR' },
    );
    expect(events(payload)).toEqual([
      {
        id: '6a3c2d1e-0000-4000-8000-000000000001',
        type: 'ALERT',
        occurredAt: new Date(NOW * 1000).toISOString(),
        project: 'vision',
        title: 'Loss diverged',
        level: 'ERROR',
        text: 'loss is NaN at step 1200',
        run: { id: '41', name: 'cifar10' },
      },
    ]);
    const untitled = determinedExperimentEvent('e2', 'CUSTOM', { id: 41, state: 'ACTIVE', name: 'cifar10', project: 'vision' }, NOW, { title: '', description: '', level: 'WARNING' });
    expect(events(untitled)[0]).toMatchObject({ title: 'Alert from experiment cifar10', level: 'WARN' });
    expect(events(untitled)[0].text).toBeUndefined();
  });

  it('the Test Webhook payload (the Determined webhook docs: event_data {"data": "test"}) is ignored', () => {
    const payload = { event_id: 'b8667b8a-e14d-40e5-83ee-a64e31bdc5f4', event_type: 'EXPERIMENT_STATE_CHANGE', timestamp: 1665695871, condition: { state: 'COMPLETED' }, event_data: { data: 'test' } };
    expect(map(payload)).toMatchObject({ outcome: 'ignored', senderId: 'b8667b8a-e14d-40e5-83ee-a64e31bdc5f4', reason: expect.stringMatching(/Test Webhook/) });
  });

  it('METRIC_THRESHOLD_EXCEEDED and unknown event types are ignored', () => {
    expect(map({ event_id: 'e', event_type: 'METRIC_THRESHOLD_EXCEEDED', event_data: {} })).toMatchObject({ outcome: 'ignored' });
  });

  it('a body that is not Determined\'s EventPayload is invalid, naming what is missing', () => {
    expect(map({ hello: 'world' })).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/event_id, event_type, event_data missing/) });
    expect(map({ event_id: 'e', event_type: 'EXPERIMENT_STATE_CHANGE', event_data: {} })).toMatchObject({ outcome: 'invalid' });
    expect(map({ event_id: 'e', event_type: 'TASK_LOG', event_data: { task_log: {} } })).toMatchObject({ outcome: 'invalid' });
  });
});
