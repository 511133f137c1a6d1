import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WebhookKind } from '../webhooks/webhook-kinds';
import { PRESET_HELPERS, asciiJson, createPresetHandlebars, jsonLiteral, presetView, truncateText } from './preset-helpers';
import { sampleContext, testSendEvent } from './preset-samples';
import type { RenderContext } from './render-context';

export const PRESET_NAMES = [
  'slack',
  'teams',
  'teams-messagecard',
  'github-repository-dispatch',
  'discord',
  'determined',
  'valohai',
  'generic',
] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

export interface PresetInfo {
  name: PresetName;
  target: string;
  description: string;
  /** The receiver's limits this preset enforces (chars are UTF-16 units, bytes UTF-8). */
  limits: Record<string, number>;
  /** The webhook kinds that use this preset when an automation names neither payload nor template. */
  defaultFor: WebhookKind[];
}

export const SLACK_LIMITS = {
  fallbackTextChars: 3000,
  headerTextChars: 150,
  sectionTextChars: 3000,
  fieldTextChars: 2000,
  fieldsPerSection: 10,
  contextElements: 10,
  buttonTextChars: 75,
  buttonUrlChars: 3000,
  blocks: 50,
};

export const DISCORD_LIMITS = {
  contentChars: 2000,
  embeds: 10,
  embedTotalChars: 6000,
  titleChars: 256,
  descriptionChars: 4096,
  fields: 25,
  fieldNameChars: 256,
  fieldValueChars: 1024,
  footerTextChars: 2048,
  authorNameChars: 256,
};

/** Teams rejects messages over about 28 KB; 28 000 UTF-8 bytes keeps a margin under 28 KiB. */
export const TEAMS_LIMITS = { payloadBytes: 28_000 };

export const GITHUB_LIMITS = { eventTypeChars: 100, clientPayloadKeys: 10 };

const DEFAULT_PRESETS: Record<WebhookKind, PresetName> = {
  generic: 'generic',
  slack: 'slack',
  teams: 'teams',
  github: 'github-repository-dispatch',
  discord: 'discord',
};

export function defaultPresetForKind(kind: WebhookKind): PresetName {
  return DEFAULT_PRESETS[kind];
}

const PRESET_DESCRIPTIONS: Record<PresetName, { target: string; description: string; limits: Record<string, number> }> = {
  slack: {
    target: 'Slack incoming webhook (Block Kit)',
    description: 'Header, project and run link, a fields section per 10 facts, alert text, log line, an "Open run" button and a context line; `text` is the notification fallback.',
    limits: SLACK_LIMITS,
  },
  teams: {
    target: 'Microsoft Teams Workflows webhook (Adaptive Card 1.4 message)',
    description: 'A message with one Adaptive Card: coloured title, project line, FactSet, alert text, monospace log line and an "Open run" action.',
    limits: TEAMS_LIMITS,
  },
  'teams-messagecard': {
    target: 'Microsoft Teams legacy Office 365 connector (MessageCard)',
    description: 'A MessageCard with theme colour, facts, alert text or log line and an OpenUri action to the run.',
    limits: TEAMS_LIMITS,
  },
  'github-repository-dispatch': {
    target: 'GitHub REST: POST /repos/{owner}/{repo}/dispatches',
    description: '`event_type` is the Herald event type; `client_payload` holds event, project, run, artifact and trigger details in 10 keys.',
    limits: GITHUB_LIMITS,
  },
  discord: {
    target: 'Discord webhook (content + embed)',
    description: 'A bold summary line and one embed (title linking the run, description, up to 25 fields, footer, timestamp); mentions disabled.',
    limits: DISCORD_LIMITS,
  },
  determined: {
    target: 'Receivers of Determined "Default" webhooks (EXPERIMENT_STATE_CHANGE)',
    description: "Determined's payload shape with run states mapped to experiment states; compact JSON, non-ASCII escaped, as Determined's verifier re-serialises it.",
    limits: {},
  },
  valohai: {
    target: 'Receivers of Valohai notification webhooks',
    description: "Valohai's message {project, title, type, body, url, data{valohai.*}} with the run as the execution.",
    limits: {},
  },
  generic: {
    target: 'Any HTTPS endpoint',
    description: 'The stored event with team, automation, delivery id and the trigger details (metric, log line).',
    limits: {},
  },
};

/**
 * The templates/ folder at the project root. This file sits in src/rendering under ts-jest and
 * in dist/rendering once compiled, two levels below the root either way.
 */
export function templatesDirectory(): string {
  return path.resolve(__dirname, '..', '..', 'templates');
}

/** A preset rendered something that is not JSON, or cannot be brought within its target's limits. */
export class PresetRenderError extends Error {
  constructor(
    readonly preset: PresetName,
    reason: string,
  ) {
    super(`Preset ${preset} rendered an invalid payload: ${reason}`);
    this.name = 'PresetRenderError';
  }
}

/** A preset file is missing or broken; raised at start so a bad deployment fails fast. */
export class PresetLoadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`Cannot load preset template ${file}: ${reason}`);
    this.name = 'PresetLoadError';
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
type Finisher = (doc: JsonObject, preset: PresetName) => void;

interface CompiledPreset {
  info: PresetInfo;
  template: (view: unknown) => string;
  finish: Finisher;
  serialize: (doc: JsonObject) => string;
}

const BLOCK_HELPERS = new Set(['if', 'unless', 'each']);

/**
 * The handlebars presets of templates/, compiled once at start. `render` is called once per
 * delivery: one template call, one JSON.parse, the target's limit checks, one serialisation.
 *
 * Compile options: `strict` makes a path through a missing object fail instead of rendering
 * nothing; `noEscape` turns off HTML escaping, which is safe because load() refuses every
 * `{{…}}` that is not `{{json …}}`, so every value reaches the output as a JSON literal.
 */
export class PresetLibrary {
  private constructor(private readonly presets: ReadonlyMap<PresetName, CompiledPreset>) {}

  static load(directory: string = templatesDirectory()): PresetLibrary {
    const hbs = createPresetHandlebars();
    const knownHelpers = Object.fromEntries(Object.keys(PRESET_HELPERS).map((name) => [name, true]));
    const presets = new Map<PresetName, CompiledPreset>();
    for (const name of PRESET_NAMES) {
      const file = path.join(directory, `${name}.hbs`);
      if (!existsSync(file)) throw new PresetLoadError(file, 'file not found');
      const source = readFileSync(file, 'utf8');
      try {
        checkOnlyJsonOutput(hbs.parse(source));
      } catch (error) {
        throw new PresetLoadError(file, (error as Error).message);
      }
      const template = hbs.compile(source, { strict: true, noEscape: true, knownHelpers, knownHelpersOnly: true });
      const info: PresetInfo = {
        name,
        ...PRESET_DESCRIPTIONS[name],
        defaultFor: (Object.keys(DEFAULT_PRESETS) as WebhookKind[]).filter((kind) => DEFAULT_PRESETS[kind] === name),
      };
      presets.set(name, { info, template, finish: FINISHERS[name], serialize: name === 'determined' ? asciiJson : jsonLiteral });
    }
    const library = new PresetLibrary(presets);
    // Render the test-send sample once per preset: compiles every template now and proves it yields JSON.
    const sample = sampleContext(testSendEvent(), { automation: null });
    for (const name of PRESET_NAMES) {
      try {
        library.render(name, sample);
      } catch (error) {
        throw new PresetLoadError(path.join(directory, `${name}.hbs`), (error as Error).message);
      }
    }
    return library;
  }

  list(): PresetInfo[] {
    return PRESET_NAMES.map((name) => this.compiled(name).info);
  }

  render(name: PresetName, context: RenderContext): string {
    const preset = this.compiled(name);
    let text: string;
    try {
      text = preset.template(presetView(context));
    } catch (error) {
      throw new PresetRenderError(name, (error as Error).message);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new PresetRenderError(name, `not JSON (${(error as Error).message})`);
    }
    if (!isObject(doc)) throw new PresetRenderError(name, 'the payload is not a JSON object');
    preset.finish(doc, name);
    return preset.serialize(doc);
  }

  private compiled(name: PresetName): CompiledPreset {
    const preset = this.presets.get(name);
    if (!preset) throw new Error(`Unknown preset ${String(name)}`);
    return preset;
  }
}

/** Walks a template's AST: output may only come from `{{json …}}`; no partials, no decorators. */
function checkOnlyJsonOutput(node: hbs.AST.Program): void {
  for (const statement of node.body) {
    const line = statement.loc?.start.line;
    switch (statement.type) {
      case 'MustacheStatement': {
        const mustache = statement as hbs.AST.MustacheStatement;
        const helper = (mustache.path as hbs.AST.PathExpression).original;
        if (helper !== 'json' || mustache.params.length !== 1) {
          throw new Error(`line ${line}: every value must be written as {{json …}} (found {{${helper}…}})`);
        }
        break;
      }
      case 'BlockStatement': {
        const block = statement as hbs.AST.BlockStatement;
        const helper = (block.path as hbs.AST.PathExpression).original;
        if (!BLOCK_HELPERS.has(helper)) throw new Error(`line ${line}: block helper #${helper} is not allowed`);
        if (block.program) checkOnlyJsonOutput(block.program);
        if (block.inverse) checkOnlyJsonOutput(block.inverse);
        break;
      }
      case 'ContentStatement':
      case 'CommentStatement':
        break;
      default:
        throw new Error(`line ${line}: ${statement.type} is not allowed in a preset`);
    }
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(parent: JsonObject, key: string): JsonObject | null {
  const value = parent[key];
  return isObject(value) ? value : null;
}

function capString(parent: JsonObject | null, key: string, max: number): void {
  if (parent && typeof parent[key] === 'string') parent[key] = truncateText(parent[key] as string, max);
}

/** Slack's Block Kit limits, applied to a rendered message (a safety net: templates truncate values first). */
export function enforceSlackLimits(doc: JsonObject): void {
  const L = SLACK_LIMITS;
  capString(doc, 'text', L.fallbackTextChars);
  if (!Array.isArray(doc.blocks)) return;
  const blocks = doc.blocks.slice(0, L.blocks).filter(isObject);
  doc.blocks = blocks.filter((block) => {
    if (block.type === 'header') capString(objectAt(block, 'text'), 'text', L.headerTextChars);
    if (block.type === 'section') {
      capString(objectAt(block, 'text'), 'text', L.sectionTextChars);
      if (Array.isArray(block.fields)) {
        block.fields = block.fields.slice(0, L.fieldsPerSection);
        for (const field of block.fields) if (isObject(field)) capString(field, 'text', L.fieldTextChars);
      }
    }
    if (block.type === 'context' && Array.isArray(block.elements)) {
      block.elements = block.elements.slice(0, L.contextElements);
      for (const element of block.elements) if (isObject(element)) capString(element, 'text', L.sectionTextChars);
    }
    if (block.type === 'actions' && Array.isArray(block.elements)) {
      // A cut URL is a broken link: drop the button instead.
      block.elements = block.elements.filter((e) => !isObject(e) || typeof e.url !== 'string' || e.url.length <= L.buttonUrlChars);
      for (const element of block.elements) if (isObject(element)) capString(objectAt(element, 'text'), 'text', L.buttonTextChars);
      return block.elements.length > 0;
    }
    return true;
  });
}

const DISCORD_EMBED_TEXT: ReadonlyArray<[string, string | null]> = [
  ['title', null],
  ['description', null],
  ['footer', 'text'],
  ['author', 'name'],
];

function embedChars(embed: JsonObject): number {
  let total = 0;
  for (const [key, inner] of DISCORD_EMBED_TEXT) {
    const holder = inner ? objectAt(embed, key) : embed;
    const value = holder?.[inner ?? key];
    if (typeof value === 'string') total += value.length;
  }
  for (const field of Array.isArray(embed.fields) ? embed.fields : []) {
    if (!isObject(field)) continue;
    if (typeof field.name === 'string') total += field.name.length;
    if (typeof field.value === 'string') total += field.value.length;
  }
  return total;
}

/** Discord's per-field limits and the 6000 characters shared by all embeds. */
export function enforceDiscordLimits(doc: JsonObject): void {
  const L = DISCORD_LIMITS;
  capString(doc, 'content', L.contentChars);
  if (!Array.isArray(doc.embeds)) return;
  const embeds = doc.embeds.slice(0, L.embeds).filter(isObject);
  doc.embeds = embeds;
  for (const embed of embeds) {
    capString(embed, 'title', L.titleChars);
    capString(embed, 'description', L.descriptionChars);
    capString(objectAt(embed, 'footer'), 'text', L.footerTextChars);
    capString(objectAt(embed, 'author'), 'name', L.authorNameChars);
    if (Array.isArray(embed.fields)) {
      embed.fields = embed.fields.slice(0, L.fields);
      for (const field of embed.fields) {
        if (!isObject(field)) continue;
        capString(field, 'name', L.fieldNameChars);
        capString(field, 'value', L.fieldValueChars);
      }
    }
  }
  shareEmbedBudget(embeds, L.embedTotalChars);
}

/**
 * The 6000 chars are shared by every embed. Give up, in order: description text, trailing
 * fields, trailing embeds (keeping the first), then footer, author and title text.
 */
function shareEmbedBudget(embeds: JsonObject[], budget: number): void {
  const excess = (): number => embeds.reduce((sum, embed) => sum + embedChars(embed), 0) - budget;
  const cut = (holder: JsonObject | null, key: string): void => {
    const value = holder?.[key];
    const over = excess();
    if (over > 0 && holder && typeof value === 'string') holder[key] = truncateText(value, Math.max(1, value.length - over));
  };
  for (const embed of embeds) cut(embed, 'description');
  for (const embed of [...embeds].reverse()) {
    while (excess() > 0 && Array.isArray(embed.fields) && embed.fields.length > 0) embed.fields.pop();
  }
  while (excess() > 0 && embeds.length > 1) embeds.pop();
  const [first] = embeds;
  if (first) {
    cut(objectAt(first, 'footer'), 'text');
    cut(objectAt(first, 'author'), 'name');
    cut(first, 'title');
  }
  if (excess() > 0) throw new Error(`embeds exceed ${budget} characters`);
}

/** Shortens the longest strings until the serialised payload fits in `maxBytes` UTF-8 bytes. */
export function fitToBytes(doc: JsonObject, maxBytes: number): void {
  for (let round = 0; round < 200; round++) {
    const excess = Buffer.byteLength(jsonLiteral(doc), 'utf8') - maxBytes;
    if (excess <= 0) return;
    const longest = longestString(doc);
    if (!longest || longest.length < 16) throw new Error(`payload cannot be brought under ${maxBytes} bytes`);
    // Every character removed saves at least one byte; the ellipsis costs three.
    longest.set(truncateText(longest.value, Math.max(8, longest.length - excess - 3)));
  }
  throw new Error(`payload cannot be brought under ${maxBytes} bytes`);
}

function longestString(root: Json): { value: string; length: number; set: (v: string) => void } | null {
  let best: { value: string; length: number; set: (v: string) => void } | null = null;
  const visit = (holder: JsonObject | Json[], key: string | number): void => {
    const value = (holder as Record<string | number, Json>)[key];
    if (typeof value === 'string') {
      if (!best || value.length > best.length) {
        best = { value, length: value.length, set: (v) => ((holder as Record<string | number, Json>)[key] = v) };
      }
    } else if (Array.isArray(value)) value.forEach((_, i) => visit(value, i));
    else if (isObject(value)) for (const k of Object.keys(value)) visit(value, k);
  };
  visit({ root }, 'root');
  return best;
}

function finishTeams(doc: JsonObject): void {
  fitToBytes(doc, TEAMS_LIMITS.payloadBytes);
}

/** repository_dispatch: event_type of 1–100 characters, at most 10 client_payload keys. */
export function enforceGithubLimits(doc: JsonObject): void {
  const eventType = doc.event_type;
  if (typeof eventType !== 'string' || eventType.length === 0) throw new Error('event_type must be a non-empty string');
  doc.event_type = truncateText(eventType, GITHUB_LIMITS.eventTypeChars);
  const payload = doc.client_payload;
  if (!isObject(payload)) throw new Error('client_payload must be an object');
  const keys = Object.keys(payload).length;
  if (keys > GITHUB_LIMITS.clientPayloadKeys) {
    throw new Error(`client_payload has ${keys} top-level keys; GitHub allows ${GITHUB_LIMITS.clientPayloadKeys}`);
  }
}

const noFinish: Finisher = () => undefined;

function withName(finish: (doc: JsonObject) => void): Finisher {
  return (doc, preset) => {
    try {
      finish(doc);
    } catch (error) {
      throw new PresetRenderError(preset, (error as Error).message);
    }
  };
}

const FINISHERS: Record<PresetName, Finisher> = {
  slack: withName(enforceSlackLimits),
  teams: withName(finishTeams),
  'teams-messagecard': withName(finishTeams),
  'github-repository-dispatch': withName(enforceGithubLimits),
  discord: withName(enforceDiscordLimits),
  determined: noFinish,
  valohai: noFinish,
  generic: noFinish,
};
