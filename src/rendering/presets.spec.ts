import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EVENT_TYPES, type HeraldEvent, RUN_STATES } from '../events/event.types';
import { WEBHOOK_KINDS } from '../webhooks/webhook-kinds';
import { asciiJson, slackEscape, truncateText } from './preset-helpers';
import { operationalSamples, sampleContext, sampleEvents, testSendEvent } from './preset-samples';
import {
  DISCORD_LIMITS,
  type JsonObject,
  PRESET_NAMES,
  PresetLibrary,
  PresetLoadError,
  type PresetName,
  SLACK_LIMITS,
  TEAMS_LIMITS,
  defaultPresetForKind,
  enforceDiscordLimits,
  enforceGithubLimits,
  enforceSlackLimits,
  fitToBytes,
  isPresetName,
  templatesDirectory,
} from './presets';
import type { RenderContext } from './render-context';

// The package's `lib/` ESM entry does not load under Node; the UMD build parses cards fine.
const AC = require('adaptivecards/dist/adaptivecards.js') as typeof import('adaptivecards');

const library = PresetLibrary.load();
const render = (name: PresetName, context: RenderContext): any => JSON.parse(library.render(name, context));
const RUN_URL = 'https://ml.example.com/llm-finetune/runs/r42';

const HOSTILE = [
  'quote " and \'single\'',
  'back\\slash \\" \\u0041',
  'new\nline\r\ttab \b\f \u0000\u001f\u007f',
  '{{json v}} {{{raw}}} }} {{',
  '${run_name} $ACCESS_TOKEN $$ ${',
  'héllo ✓ 😀 日本語 \u2028\u2029 \ufeff',
  '<script>alert(1)</script> &amp; <!here> @everyone [x](https://evil.example)',
];
const hostile = HOSTILE.join(' | ');

function hostileEvent(type: HeraldEvent['type'], text: string): HeraldEvent {
  return {
    id: `evt_${text.slice(0, 100)}`,
    type,
    occurredAt: '2026-11-22T08:00:00Z',
    project: `p ${text}`,
    author: `a ${text}`,
    run: { id: `r ${text}`, name: `n ${text}`, state: 'FAILED', url: `${RUN_URL}?q=${encodeURIComponent(text)}` },
    step: 7,
    metrics: { [`m ${text}`]: 'NaN', loss: 0.5 },
    lines: [`line ${text}`],
    title: `t ${text}`,
    level: 'ERROR',
    text: `x ${text}`,
    artifact: {
      name: `c ${text}:v1`,
      version: `v ${text}`,
      collection: `c ${text}`,
      type: `ty ${text}`,
      metadata: { [`k ${text}`]: `mv ${text}`, nested: { deep: [text] } },
      aliases: [`al ${text}`],
      tags: [`tg ${text}`],
    },
    alias: `al ${text}`,
    tag: `tg ${text}`,
  };
}

function hostileContext(type: HeraldEvent['type'], text: string, metricValue = Number.NaN): RenderContext {
  return sampleContext(hostileEvent(type, text), {
    team: { id: 'team_1', name: `team ${text}` },
    automation: { id: 'aut_1', name: `auto ${text}` },
    metric: { name: `m ${text}`, value: metricValue, threshold: Number.POSITIVE_INFINITY, change: Number.NEGATIVE_INFINITY, zscore: null },
    logLine: `line ${text}`,
  });
}

/** Every string in a parsed document, depth first. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function parseAdaptiveCard(content: unknown): { warnings: string[] } {
  const card = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  card.parse(content as any, ctx);
  const warnings: string[] = [];
  for (let i = 0; i < ctx.eventCount; i++) warnings.push(ctx.getEventAt(i).message);
  for (const event of card.validateProperties().validationEvents) warnings.push(event.message);
  return { warnings };
}

describe('preset names and defaults', () => {
  it('lists every preset with its target, limits and default kinds', () => {
    const infos = library.list();
    expect(infos.map((i) => i.name)).toEqual([...PRESET_NAMES]);
    for (const info of infos) expect(info.target.length).toBeGreaterThan(0);
    expect(infos.find((i) => i.name === 'slack')?.limits).toMatchObject({ sectionTextChars: 3000, blocks: 50 });
    expect(infos.find((i) => i.name === 'discord')?.limits).toMatchObject({ contentChars: 2000, embedTotalChars: 6000 });
    expect(infos.find((i) => i.name === 'teams')?.limits).toEqual({ payloadBytes: 28_000 });
    expect(infos.find((i) => i.name === 'github-repository-dispatch')?.defaultFor).toEqual(['github']);
    expect(infos.find((i) => i.name === 'determined')?.defaultFor).toEqual([]);
  });

  it('maps each webhook kind to its default preset', () => {
    expect(WEBHOOK_KINDS.map((k) => [k, defaultPresetForKind(k)])).toEqual([
      ['generic', 'generic'],
      ['slack', 'slack'],
      ['teams', 'teams'],
      ['github', 'github-repository-dispatch'],
      ['discord', 'discord'],
    ]);
  });

  it('recognises preset names', () => {
    expect(isPresetName('teams-messagecard')).toBe(true);
    expect(isPresetName('teams-card')).toBe(false);
    expect(isPresetName('toString')).toBe(false);
  });

  it('finds templates/ at the project root, not under dist/', () => {
    const dir = templatesDirectory();
    expect(path.basename(dir)).toBe('templates');
    expect(existsSync(path.join(dir, '..', 'package.json'))).toBe(true);
    for (const name of PRESET_NAMES) expect(existsSync(path.join(dir, `${name}.hbs`))).toBe(true);
  });
});

describe('every preset renders every event as JSON', () => {
  const samples = sampleEvents();

  it('has samples of every event type and run state', () => {
    expect(new Set(samples.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
    const states = samples.filter((e) => e.type === 'RUN_STATE').map((e) => e.run?.state);
    expect(new Set(states)).toEqual(new Set(RUN_STATES));
  });

  const cases = PRESET_NAMES.flatMap((name) => samples.map((event) => [name, event.id, event] as const));
  it.each(cases)('%s × %s', (name, _id, event) => {
    for (const context of [
      sampleContext(event),
      sampleContext(event, { automation: null, metric: null, logLine: null }),
    ]) {
      const values = strings(JSON.parse(library.render(name, context)));
      // Every preset names the project; and what the event is about: the run, or (but for
      // determined, whose payload is an experiment) the collection or the alert's title.
      expect(values.some((v) => v.includes(event.project))).toBe(true);
      const subject = name === 'determined' ? event.run?.name : (event.run?.name ?? event.artifact?.collection ?? event.title);
      if (subject !== undefined) expect(values.some((v) => v.includes(subject))).toBe(true);
    }
  });

  it('renders the test-send sample with every preset, naming its run', () => {
    const context = sampleContext(testSendEvent(), { automation: null });
    for (const name of PRESET_NAMES) {
      expect(strings(JSON.parse(library.render(name, context))).some((v) => v.includes(testSendEvent().run!.name))).toBe(true);
    }
  });

  it('carries hostile values intact in every preset and event type (Slack escapes & < > as its format requires)', () => {
    const shown = (name: string, text: string) =>
      name === 'slack' ? text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : text;
    for (const name of PRESET_NAMES) {
      for (const type of EVENT_TYPES) {
        for (const text of [...HOSTILE, hostile]) {
          const values = strings(JSON.parse(library.render(name, hostileContext(type, text))));
          expect(values.some((v) => v.includes(shown(name, `p ${text}`)))).toBe(true);
        }
      }
    }
  });
});

describe('operational events', () => {
  const [disabled, failed] = operationalSamples();

  it.each(PRESET_NAMES.filter((name) => name !== 'determined'))('%s names the webhook, the reason or status, and the error', (name) => {
    for (const event of [disabled, failed]) {
      const text = strings(JSON.parse(library.render(name, sampleContext(event)))).join('\n');
      expect(text).toContain('deploy-hook');
      expect(text).toContain(event.error!);
      if (name !== 'valohai') expect(text).toContain(String(event.statusCode));
    }
  });

  it('headlines say what happened', () => {
    expect(render('slack', sampleContext(disabled)).text).toMatch(/^Webhook deploy-hook disabled: it answered 410 Gone/);
    expect(render('slack', sampleContext({ ...disabled, reason: 'failing' })).text).toMatch(/^Webhook deploy-hook disabled: it kept failing/);
    expect(render('slack', sampleContext(failed)).text).toMatch(/^Delivery to webhook deploy-hook failed after 8 attempts/);
    expect(render('valohai', sampleContext(failed)).type).toBe('execution_failed');
    expect(render('github-repository-dispatch', sampleContext(failed)).client_payload.trigger.webhook).toEqual({
      id: 'wh_01JWEBHOOK',
      name: 'deploy-hook',
      disabled_reason: null,
      attempts: 8,
      status_code: 503,
      error: 'HTTP 503: upstream unavailable',
    });
    expect(render('github-repository-dispatch', sampleContext(failed)).client_payload.delivery_id).toBe('msg_01JFAILED');
  });
});

describe('hostile values round-trip', () => {
  it('generic embeds the stored event unchanged', () => {
    for (const text of HOSTILE) {
      const context = hostileContext('ADD_ARTIFACT_ALIAS', text);
      const body = render('generic', context);
      expect(body.event).toEqual(context.event);
      expect(body.team).toEqual(context.team);
      expect(body.automation).toEqual(context.automation);
      expect(body.trigger.metric).toEqual({ name: `m ${text}`, value: 'NaN', threshold: 'Infinity', change: '-Infinity', zscore: null });
      expect(body.trigger.log_line).toBe(`line ${text}`);
    }
  });

  it('github client_payload carries values exactly', () => {
    for (const text of HOSTILE) {
      const body = render('github-repository-dispatch', hostileContext('ADD_ARTIFACT_ALIAS', text, Number.POSITIVE_INFINITY));
      const p = body.client_payload;
      expect(p.project_name).toBe(`p ${text}`);
      expect(p.entity_name).toBe(`team ${text}`);
      expect(p.event_author).toBe(`a ${text}`);
      expect(p.run.name).toBe(`n ${text}`);
      expect(p.artifact.alias).toBe(`al ${text}`);
      expect(p.artifact.version_string).toBe(`team ${text}/p ${text}/c ${text}:al ${text}`);
      expect(p.artifact.metadata).toEqual({ [`k ${text}`]: `mv ${text}`, nested: { deep: [text] } });
      expect(p.trigger.metric.value).toBe('Infinity');
      expect(p.trigger.log_line).toBe(`line ${text}`);
    }
  });

  it('teams, discord and valohai show values as written', () => {
    for (const text of HOSTILE) {
      const context = hostileContext('RUN_STATE', text);
      const card = render('teams', context).attachments[0].content;
      const facts = card.body.find((b: any) => b.type === 'FactSet').facts;
      expect(facts).toContainEqual({ title: 'Run', value: `n ${text}` });
      const discord = render('discord', context);
      expect(discord.embeds[0].fields).toContainEqual({ name: 'Author', value: `a ${text}`, inline: true });
      const valohai = render('valohai', context);
      expect(valohai.data['valohai.execution-title']).toBe(`n ${text}`);
      expect(valohai.project).toBe(`p ${text}`);
    }
  });

  it('slack escapes &, < and > in mrkdwn and keeps everything else', () => {
    for (const text of HOSTILE) {
      const body = render('slack', hostileContext('RUN_STATE', text));
      const fieldTexts = body.blocks.flatMap((b: any) => (b.fields ?? []).map((f: any) => f.text));
      expect(fieldTexts).toContain(`*Author*\n${slackEscape(`a ${text}`)}`);
      const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      const mrkdwn = [...fieldTexts, body.text, ...body.blocks.filter((b: any) => b.type === 'context').flatMap((b: any) => strings(b.elements))];
      for (const t of mrkdwn) {
        expect(t).not.toMatch(/[<>]/);
        expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
      }
      expect(fieldTexts.map(unescape)).toContain(`*Run*\n${`n ${text}`}`);
      expect(body.blocks[0].text.text).toBe(truncateText(`Run n ${text} failed`, 150));
    }
  });

  it('discord never pings and Slack links cannot be forged', () => {
    const context = hostileContext('ALERT', '@everyone <https://evil.example|click> <!channel>');
    expect(render('discord', context).allowed_mentions).toEqual({ parse: [] });
    const body = render('slack', context);
    const slack = JSON.stringify({ ...body, blocks: body.blocks.filter((b: any) => b.type !== 'header') });
    expect(slack).not.toContain('<https://evil.example');
    expect(slack).not.toContain('<!channel>');
  });

  it('writes non-finite metric values as strings', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const context = sampleContext(sampleEvents()[0], { metric: { name: 'val/loss', value, threshold: 1 } });
      expect(render('generic', context).trigger.metric.value).toBe(String(value));
      expect(render('github-repository-dispatch', context).client_payload.trigger.metric.value).toBe(String(value));
      expect(render('slack', context).blocks[0].text.text).toBe(`Metric val/loss = ${String(value)} on run bert-base-lr3e-4`);
    }
  });
});

describe('target limits hold with huge inputs', () => {
  const huge = (unit: string) => unit.repeat(Math.ceil(10_000 / unit.length)).slice(0, 10_000);
  const units = ['x', 'é', '😀', '"\\\n', '<&>'];
  const contexts = EVENT_TYPES.flatMap((type) => units.map((u) => hostileContext(type, huge(u))));

  it('slack: header, section, field and fallback text within limits', () => {
    for (const context of contexts) {
      const body = render('slack', context);
      expect(body.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackTextChars);
      expect(body.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
      for (const block of body.blocks) {
        if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
        if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
        for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
        expect((block.fields ?? []).length).toBeLessThanOrEqual(10);
        for (const element of block.type === 'context' ? block.elements : []) expect(element.text.length).toBeLessThanOrEqual(3000);
      }
    }
  });

  it('discord: content, embed fields and the 6000-char embed total within limits', () => {
    for (const context of contexts) {
      const body = render('discord', context);
      expect(body.content.length).toBeLessThanOrEqual(DISCORD_LIMITS.contentChars);
      let total = 0;
      for (const embed of body.embeds) {
        expect(embed.title.length).toBeLessThanOrEqual(256);
        expect((embed.description ?? '').length).toBeLessThanOrEqual(4096);
        expect(embed.fields.length).toBeLessThanOrEqual(25);
        for (const f of embed.fields) {
          expect(f.name.length).toBeLessThanOrEqual(256);
          expect(f.value.length).toBeLessThanOrEqual(1024);
          expect(f.value.length).toBeGreaterThan(0);
        }
        expect(embed.footer.text.length).toBeLessThanOrEqual(2048);
        total += embed.title.length + (embed.description ?? '').length + embed.footer.text.length;
        total += embed.fields.reduce((s: number, f: any) => s + f.name.length + f.value.length, 0);
      }
      expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotalChars);
    }
  });

  it('teams and teams-messagecard stay under 28 000 bytes', () => {
    for (const context of contexts) {
      for (const name of ['teams', 'teams-messagecard'] as const) {
        expect(Buffer.byteLength(library.render(name, context), 'utf8')).toBeLessThanOrEqual(TEAMS_LIMITS.payloadBytes);
      }
    }
  });

  it('never leaves a lone surrogate when cutting', () => {
    for (const name of PRESET_NAMES) {
      const out = library.render(name, hostileContext('ALERT', huge('😀')));
      expect(out).not.toMatch(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/);
      for (const s of strings(JSON.parse(out))) expect(s).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
  });

  it('enforceSlackLimits cuts blocks, fields and long texts', () => {
    const doc: JsonObject = {
      text: 'y'.repeat(5000),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(400) } },
        { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(5000) }, fields: Array.from({ length: 14 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2500) })) },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'b'.repeat(100) }, url: `https://x/${'u'.repeat(3000)}` }] },
        ...Array.from({ length: 60 }, () => ({ type: 'divider' })),
      ],
    };
    enforceSlackLimits(doc);
    const blocks = doc.blocks as any[];
    expect(blocks).toHaveLength(49); // 50 kept, the actions block lost its only (too long) button
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(blocks[0].text.text).toHaveLength(150);
    expect(blocks[1].text.text).toHaveLength(3000);
    expect(blocks[1].fields).toHaveLength(10);
    expect(blocks[1].fields[0].text).toHaveLength(2000);
    expect((doc.text as string).length).toBe(3000);
  });

  it('enforceDiscordLimits shares 6000 chars across embeds', () => {
    const embed = () => ({
      title: 't'.repeat(300),
      description: 'd'.repeat(5000),
      fields: Array.from({ length: 30 }, (_, i) => ({ name: `n${i}`, value: 'v'.repeat(2000) })),
      footer: { text: 'f'.repeat(3000) },
    });
    const doc: JsonObject = { content: 'c'.repeat(2500), embeds: Array.from({ length: 12 }, embed) };
    enforceDiscordLimits(doc);
    const embeds = doc.embeds as any[];
    expect((doc.content as string).length).toBe(2000);
    expect(embeds.length).toBeGreaterThanOrEqual(1);
    expect(embeds.length).toBeLessThanOrEqual(10);
    let total = 0;
    for (const e of embeds) {
      expect(e.fields.length).toBeLessThanOrEqual(25);
      total += e.title.length + e.description.length + e.footer.text.length;
      total += e.fields.reduce((s: number, f: any) => s + f.name.length + f.value.length, 0);
    }
    expect(total).toBeLessThanOrEqual(6000);
  });

  it('enforceDiscordLimits gives up description text before fields', () => {
    const fields = Array.from({ length: 5 }, (_, i) => ({ name: `n${i}`, value: 'v'.repeat(1000) }));
    const doc: JsonObject = { embeds: [{ title: 'title', description: 'd'.repeat(4000), fields, footer: { text: 'footer' } }] };
    enforceDiscordLimits(doc);
    const [embed] = doc.embeds as any[];
    expect(embed.fields).toHaveLength(5);
    expect(embed.title).toBe('title');
    expect(embed.footer.text).toBe('footer');
    expect(embed.description.length).toBe(6000 - 5 - 6 - 5 * 1002);
    expect(embed.description.endsWith('…')).toBe(true);
  });

  it('fitToBytes shrinks the longest strings until the payload fits', () => {
    const doc: JsonObject = { a: 'é'.repeat(20_000), b: ['😀'.repeat(9000)], c: 'keep' };
    fitToBytes(doc, 28_000);
    expect(Buffer.byteLength(JSON.stringify(doc), 'utf8')).toBeLessThanOrEqual(28_000);
    expect(doc.c).toBe('keep');
    expect(() => fitToBytes({ many: Array.from({ length: 5000 }, () => 'short') }, 1000)).toThrow(/cannot be brought under 1000 bytes/);
  });
});

describe('github-repository-dispatch', () => {
  it('has an event_type of 1–100 chars and at most 10 client_payload keys for every event', () => {
    for (const context of [...sampleEvents().map((e) => sampleContext(e)), ...EVENT_TYPES.map((t) => hostileContext(t, 'x'.repeat(10_000)))]) {
      const body = render('github-repository-dispatch', context);
      expect(Object.keys(body)).toEqual(['event_type', 'client_payload']);
      expect(body.event_type).toBe(context.event.type);
      expect(body.event_type.length).toBeGreaterThanOrEqual(1);
      expect(body.event_type.length).toBeLessThanOrEqual(100);
      expect(Object.keys(body.client_payload).length).toBeLessThanOrEqual(10);
    }
  });

  it('enforceGithubLimits cuts event_type and refuses an 11th key', () => {
    const doc: JsonObject = { event_type: 'E'.repeat(150), client_payload: {} };
    enforceGithubLimits(doc);
    expect((doc.event_type as string).length).toBe(100);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]));
    expect(() => enforceGithubLimits({ event_type: 'X', client_payload: eleven })).toThrow(/11 top-level keys/);
    expect(() => enforceGithubLimits({ event_type: '', client_payload: {} })).toThrow(/non-empty/);
  });
});

describe('teams adaptive card', () => {
  it('is a Workflows message with one Adaptive Card 1.4 that parses without warnings', () => {
    const contexts = [
      ...sampleEvents().map((e) => sampleContext(e)),
      ...EVENT_TYPES.map((t) => hostileContext(t, hostile)),
      ...EVENT_TYPES.map((t) => hostileContext(t, 'é'.repeat(10_000))),
    ];
    for (const context of contexts) {
      const body = render('teams', context);
      expect(body.type).toBe('message');
      expect(body.attachments).toHaveLength(1);
      const [attachment] = body.attachments;
      expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(attachment.contentUrl).toBeNull();
      expect(attachment.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
      expect(parseAdaptiveCard(attachment.content).warnings).toEqual([]);
    }
  });

  it('the validator does report a broken card (the check can fail)', () => {
    const broken = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'NoSuchElement' }] };
    expect(parseAdaptiveCard(broken).warnings.length).toBeGreaterThan(0);
  });
});

describe('links to the run', () => {
  const withUrl = sampleContext(sampleEvents().find((e) => e.id === 'evt_state_failed')!);
  const withoutUrl = sampleContext(sampleEvents().find((e) => e.id === 'evt_state_running')!);

  it('links the run when its URL is known', () => {
    const slack = render('slack', withUrl);
    expect(slack.blocks[1].text.text).toContain(`<${RUN_URL}|bert-base-lr3e-4>`);
    expect(slack.blocks.find((b: any) => b.type === 'actions').elements[0].url).toBe(RUN_URL);
    expect(render('teams', withUrl).attachments[0].content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open run', url: RUN_URL }]);
    expect(render('teams-messagecard', withUrl).potentialAction[0].targets[0].uri).toBe(RUN_URL);
    expect(render('discord', withUrl).embeds[0].url).toBe(RUN_URL);
    expect(render('github-repository-dispatch', withUrl).client_payload.run.url).toBe(RUN_URL);
    const valohai = render('valohai', withUrl);
    expect(valohai.url).toBe(RUN_URL);
    expect(valohai.body).toContain(`(${RUN_URL})`);
  });

  it('has no link when the URL is unknown or not http(s)', () => {
    const js = sampleContext({ ...withUrl.event, run: { ...withUrl.event.run!, url: 'javascript:alert(1)' } });
    for (const context of [withoutUrl, js]) {
      expect(render('slack', context).blocks.some((b: any) => b.type === 'actions')).toBe(false);
      expect(render('slack', context).blocks[1].text.text).not.toContain('<');
      expect(render('teams', context).attachments[0].content.actions).toBeUndefined();
      expect(render('teams-messagecard', context).potentialAction).toBeUndefined();
      expect(render('discord', context).embeds[0].url).toBeUndefined();
    }
  });
});

describe('determined (the Determined webhook docs)', () => {
  const SEED_TOP = ['event_id', 'event_type', 'timestamp', 'condition', 'event_data'];
  const SEED_EXPERIMENT = ['id', 'state', 'name', 'slots_per_trial', 'duration', 'resource_pool', 'workspace', 'project'];

  it('has exactly the seed fields, in the seed order', () => {
    const body = render('determined', sampleContext(sampleEvents().find((e) => e.id === 'evt_state_finished')!));
    expect(Object.keys(body)).toEqual(SEED_TOP);
    expect(Object.keys(body.condition)).toEqual(['state']);
    expect(Object.keys(body.event_data)).toEqual(['experiment']);
    expect(Object.keys(body.event_data.experiment)).toEqual(SEED_EXPERIMENT);
    expect(body).toEqual({
      event_id: 'evt_state_finished',
      event_type: 'EXPERIMENT_STATE_CHANGE',
      timestamp: Date.parse('2026-11-22T08:00:00Z') / 1000,
      condition: { state: 'COMPLETED' },
      event_data: {
        experiment: {
          id: 'r42',
          state: 'COMPLETED',
          name: 'bert-base-lr3e-4',
          slots_per_trial: null,
          duration: null,
          resource_pool: null,
          workspace: 'acme',
          project: 'llm-finetune',
        },
      },
    });
  });

  it.each([
    ['FINISHED', 'COMPLETED'],
    ['FAILED', 'ERRORED'],
    ['CRASHED', 'ERRORED'],
    ['KILLED', 'CANCELED'],
    ['RUNNING', 'ACTIVE'],
  ] as const)('maps run state %s to %s', (state, expected) => {
    const event = { ...testSendEvent(), run: { id: '1', name: 'x', state } };
    const body = render('determined', sampleContext(event));
    expect(body.condition.state).toBe(expected);
    expect(body.event_data.experiment.state).toBe(expected);
  });

  it('has an integer unix-seconds timestamp and null state for events without a run state', () => {
    const event: HeraldEvent = { ...testSendEvent(), type: 'ALERT', run: undefined, title: 't', level: 'INFO', occurredAt: '2026-11-22T08:00:00.999Z' };
    const body = render('determined', sampleContext(event));
    expect(body.timestamp).toBe(Math.floor(Date.parse('2026-11-22T08:00:00Z') / 1000));
    expect(Number.isInteger(body.timestamp)).toBe(true);
    expect(body.condition.state).toBeNull();
    expect(body.event_data.experiment.id).toBeNull();
  });

  it('is compact ASCII JSON with lowercase \\uXXXX escapes, as json.dumps(separators=(",",":")) writes it', () => {
    const event = { ...testSendEvent(), project: 'café 😀 日本 \u2028 \u007f', run: { id: 'r', name: 'naïve\n"run"', state: 'FINISHED' as const } };
    const body = library.render('determined', sampleContext(event, { team: { id: 't', name: 'équipe' } }));
    expect(body).toMatch(/^[\x20-\x7e]*$/);
    expect(body).not.toMatch(/[:,] /);
    expect(body).toContain('"project":"caf\\u00e9 \\ud83d\\ude00 \\u65e5\\u672c \\u2028 \\u007f"');
    expect(body).toContain('"name":"na\\u00efve\\n\\"run\\""');
    expect(body).toContain('"workspace":"\\u00e9quipe"');
    expect(JSON.parse(body).event_data.experiment.project).toBe(event.project);
    expect(body).toBe(asciiJson(JSON.parse(body)));
  });

  const python = spawnSync('python3', ['-c', 'print(1)']).status === 0;
  (python ? it : it.skip)("gives the same bytes as Determined's Python verifier re-serialisation", () => {
    const verifier = 'import sys, json; b = sys.stdin.buffer.read().decode("utf-8"); sys.stdout.write(json.dumps(separators=(",", ":"), obj=json.loads(b)))';
    for (const text of [...HOSTILE, hostile]) {
      const event = { ...hostileEvent('RUN_STATE', text), run: { id: `r ${text}`, name: `n ${text}`, state: 'CRASHED' as const } };
      const body = library.render('determined', sampleContext(event));
      const result = spawnSync('python3', ['-c', verifier], { input: body });
      expect(result.status).toBe(0);
      expect(result.stdout.toString('utf8')).toBe(body);
    }
  });
});

describe('valohai (the Valohai notification docs)', () => {
  const SEED_TOP = ['project', 'title', 'type', 'body', 'url', 'data'];
  const SEED_DATA = [
    'valohai.execution-counter',
    'valohai.execution-ctime',
    'valohai.execution-duration',
    'valohai.execution-id',
    'valohai.execution-qtime',
    'valohai.execution-status',
    'valohai.execution-step',
    'valohai.execution-title',
    'valohai.project-id',
    'valohai.project-name',
    'valohai.creator-id',
    'valohai.creator-name',
    'valohai.commit-identifier',
  ];

  it('has exactly the seed fields for every event', () => {
    for (const event of sampleEvents()) {
      const body = render('valohai', sampleContext(event));
      expect(Object.keys(body)).toEqual(SEED_TOP);
      expect(Object.keys(body.data)).toEqual(SEED_DATA);
      expect(['execution_completed', 'execution_failed']).toContain(body.type);
    }
  });

  it('maps a finished run like the seed example', () => {
    const body = render('valohai', sampleContext(sampleEvents().find((e) => e.id === 'evt_state_finished')!));
    expect(body).toMatchObject({
      project: 'llm-finetune',
      title: 'Execution finished: acme/llm-finetune/bert-base-lr3e-4 (completed)',
      type: 'execution_completed',
      body: `Execution [acme/llm-finetune/bert-base-lr3e-4](${RUN_URL}) (by alice)\nRun bert-base-lr3e-4 finished.`,
      url: RUN_URL,
    });
    expect(body.data).toMatchObject({
      'valohai.execution-id': 'r42',
      'valohai.execution-status': 'complete',
      'valohai.execution-title': 'bert-base-lr3e-4',
      'valohai.project-name': 'acme/llm-finetune',
      'valohai.creator-name': 'alice',
    });
  });

  it.each([
    ['FINISHED', 'execution_completed', 'complete'],
    ['FAILED', 'execution_failed', 'error'],
    ['CRASHED', 'execution_failed', 'crashed'],
    ['KILLED', 'execution_failed', 'stopped'],
    ['RUNNING', 'execution_completed', 'started'],
  ] as const)('run state %s is type %s, status %s', (state, type, status) => {
    const body = render('valohai', sampleContext({ ...testSendEvent(), run: { id: '1', name: 'x', state } }));
    expect(body.type).toBe(type);
    expect(body.data['valohai.execution-status']).toBe(status);
  });
});

describe('generic', () => {
  it('sends the event with team, automation and delivery id; automation null for test sends', () => {
    const event = sampleEvents()[0];
    const body = render('generic', sampleContext(event, { automation: null, deliveryId: 'msg_test' }));
    expect(Object.keys(body)).toEqual(['event_type', 'event_id', 'timestamp', 'team', 'automation', 'delivery_id', 'event', 'trigger']);
    expect(body).toMatchObject({ event_type: 'RUN_METRICS', event_id: 'evt_metrics', timestamp: event.occurredAt, automation: null, delivery_id: 'msg_test' });
    expect(body.event).toEqual(event);
    expect(body.trigger.metric).toEqual({ name: 'val/loss', value: 0.183, threshold: 0.2, change: null, zscore: null });
  });
});

describe('loading', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-presets-'));
    cpSync(templatesDirectory(), dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a copy of templates/', () => {
    expect(PresetLibrary.load(dir).list()).toHaveLength(PRESET_NAMES.length);
  });

  it('names a missing file', () => {
    unlinkSync(path.join(dir, 'discord.hbs'));
    expect(() => PresetLibrary.load(dir)).toThrow(PresetLoadError);
    expect(() => PresetLibrary.load(dir)).toThrow(`Cannot load preset template ${path.join(dir, 'discord.hbs')}: file not found`);
  });

  it('names a template that renders something other than JSON', () => {
    writeFileSync(path.join(dir, 'valohai.hbs'), '{ "project": {{json v.project_name}}, }');
    expect(() => PresetLibrary.load(dir)).toThrow(/valohai\.hbs: Preset valohai rendered an invalid payload: not JSON/);
  });

  it('refuses a value written without the json helper', () => {
    writeFileSync(path.join(dir, 'slack.hbs'), '{ "text": "{{v.run_name}}" }');
    expect(() => PresetLibrary.load(dir)).toThrow(/slack\.hbs: line 1: every value must be written as \{\{json …\}\}/);
    writeFileSync(path.join(dir, 'slack.hbs'), '{ "text": {{{json v.run_name}}} }');
    expect(() => PresetLibrary.load(dir)).not.toThrow();
    writeFileSync(path.join(dir, 'slack.hbs'), '{ "text": "{{truncate v.run_name 3}}" }');
    expect(() => PresetLibrary.load(dir)).toThrow(/every value must be written as/);
  });

  it('names a syntax error and a field that does not exist', () => {
    writeFileSync(path.join(dir, 'generic.hbs'), '{ "a": {{json v.run_name }');
    expect(() => PresetLibrary.load(dir)).toThrow(/generic\.hbs/);
    writeFileSync(path.join(dir, 'generic.hbs'), '{ "a": {{json v.no_such_variable}} }');
    expect(() => PresetLibrary.load(dir)).toThrow(/generic\.hbs: .*json helper got undefined/);
  });

  it('reads the files once, at load', () => {
    const loaded = PresetLibrary.load(dir);
    rmSync(dir, { recursive: true, force: true });
    expect(JSON.parse(loaded.render('generic', sampleContext(testSendEvent()))).event_type).toBe('RUN_STATE');
    expect(readFileSync(path.join(templatesDirectory(), 'generic.hbs'), 'utf8')).toContain('{{json event}}');
  });
});
