import {
  HF_CODE_CHANGES,
  HF_PULL_REQUEST_OPENED,
  asReceived,
  huggingfaceDelivery,
  huggingfaceRepoContentUpdate,
  validEvents,
} from '../../../test/support/senders';
import { huggingfaceSender } from './huggingface';

const SECRET = 'hf-webhook-secret';
const context = { sourceId: 'src_hf', project: 'hub' };

describe('huggingface sender: authentication (X-Webhook-Secret, hub-docs docs/hub/webhooks.md)', () => {
  const signed = asReceived(huggingfaceDelivery(SECRET, huggingfaceRepoContentUpdate()));

  it('accepts the secret verbatim, refuses another or none', () => {
    expect(huggingfaceSender.authenticate(signed, SECRET, 0)).toEqual({ ok: true });
    expect(huggingfaceSender.authenticate(signed, `${SECRET}x`, 0)).toEqual({ ok: false, reason: 'the X-Webhook-Secret header differs from this source\'s secret' });
    expect(huggingfaceSender.authenticate({ ...signed, headers: {} }, SECRET, 0)).toEqual({ ok: false, reason: expect.stringMatching(/X-Webhook-Secret header is missing/) });
  });
});

describe('huggingface sender: mapping', () => {
  const map = (payload: object, sourceId = context.sourceId) => huggingfaceSender.map(payload, asReceived({ headers: {}, body: '' }), { ...context, sourceId });
  const events = (payload: object) => validEvents(map(payload));

  it('a new commit on main and a created tag (the docs\' "Code changes" example) → CREATE_ARTIFACT and ADD_ARTIFACT_TAG', () => {
    const [created, tagged] = events(huggingfaceRepoContentUpdate(HF_CODE_CHANGES));
    expect(created).toEqual({
      id: expect.stringMatching(/^hf-[0-9a-f]{40}$/),
      type: 'CREATE_ARTIFACT',
      project: 'hub',
      artifact: {
        name: 'some-user/some-repo',
        collection: 'some-user/some-repo',
        version: 'c379e821c9c95d613899e8c4343e4bfee2b0c600',
        type: 'model',
        id: '6366c000a2abcdf2fd69a080',
        metadata: { url: 'https://huggingface.co/some-user/some-repo' },
      },
    });
    expect(tagged).toMatchObject({ type: 'ADD_ARTIFACT_TAG', tag: 'test', artifact: { version: '575db8b7a51b6f85eb06eee540738584589f131c' } });
    expect(tagged.id).not.toBe(created.id);
  });

  it('a Replay (the same payload again) gives the same event ids; another source gives others', () => {
    const first = events(huggingfaceRepoContentUpdate(HF_CODE_CHANGES)).map((e) => e.id);
    expect(events(huggingfaceRepoContentUpdate(HF_CODE_CHANGES)).map((e) => e.id)).toEqual(first);
    const elsewhere = map(huggingfaceRepoContentUpdate(HF_CODE_CHANGES), 'src_other');
    expect(elsewhere.outcome === 'events' && elsewhere.events.map((e) => e.id)).not.toEqual(first);
  });

  it('a payload without updatedRefs (the docs\' "Repo" example alone) is a content update: CREATE_ARTIFACT at headSha', () => {
    expect(events(huggingfaceRepoContentUpdate()).map((e) => [e.type, e.artifact!.version])).toEqual([['CREATE_ARTIFACT', 'c379e821c9c95d613899e8c4343e4bfee2b0c600']]);
  });

  it('only a tag created: ADD_ARTIFACT_TAG, no new version; a deleted tag: REMOVE_ARTIFACT_TAG', () => {
    expect(events(huggingfaceRepoContentUpdate([HF_CODE_CHANGES[1]])).map((e) => e.type)).toEqual(['ADD_ARTIFACT_TAG']);
    const removed = events(huggingfaceRepoContentUpdate([{ ref: 'refs/tags/v1', oldSha: 'aaaa', newSha: null }]));
    expect(removed).toEqual([expect.objectContaining({ type: 'REMOVE_ARTIFACT_TAG', tag: 'v1', artifact: expect.objectContaining({ version: 'aaaa' }) })]);
  });

  it('a Pull Request ref or another branch moving is ignored, saying which refs changed', () => {
    expect(map(huggingfaceRepoContentUpdate([{ ref: 'refs/pr/3', oldSha: null, newSha: 'bbbb' }]))).toMatchObject({
      outcome: 'ignored',
      senderEvent: 'repo.content.update',
      reason: 'no new commit on main and no tag change (updated: refs/pr/3)',
    });
  });

  it('discussions, Pull Requests and comments (the docs\' Pull Request example) are ignored', () => {
    expect(map(HF_PULL_REQUEST_OPENED)).toMatchObject({ outcome: 'ignored', senderEvent: 'discussion.create', senderId: expect.stringMatching(/^hf-/) });
    expect(map({ ...HF_PULL_REQUEST_OPENED, event: { action: 'update', scope: 'repo.config' } })).toMatchObject({ outcome: 'ignored' });
  });

  it('a body that is not a Hugging Face payload is invalid', () => {
    expect(map({ event: 'push' })).toMatchObject({ outcome: 'invalid' });
    expect(map(huggingfaceRepoContentUpdate(['refs/heads/main'] as unknown as object[]))).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/updatedRefs/) });
  });
});
