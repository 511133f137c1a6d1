import { Document, LineCounter, isMap, isNode, isScalar, parseDocument } from 'yaml';
import type { FieldProblem } from '../common/errors/api-error';
import { isPlainObject } from '../common/plain-object';
import { CONFIG_KINDS, type ConfigDocument, SECTION } from './config-document';

/**
 * Reading and writing configuration files: YAML (the `yaml` package, YAML 1.2: `yes`/`no`
 * stay strings) or JSON, chosen by the file name. Every problem is reported with the line and
 * column of the value at fault and the name of the object it belongs to.
 */

export type ConfigFormat = 'yaml' | 'json';

export function formatOf(path: string): ConfigFormat {
  return /\.json$/i.test(path) ? 'json' : 'yaml';
}

export interface Position {
  line: number;
  column: number;
}

export interface ParsedConfig {
  /** undefined when the text could not be parsed (see problems). */
  value: unknown;
  /** Syntax problems, with their position. */
  problems: { position: Position | null; reason: string }[];
  /** Where the value at this path is, or its nearest enclosing value. */
  locate(field: string): Position | null;
}

export function parseConfigText(text: string, format: ConfigFormat): ParsedConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const position = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const locate = (field: string): Position | null => {
    const path = fieldPath(field);
    for (let length = path.length; length >= 0; length--) {
      const parent = length === 0 ? undefined : length === 1 ? document.contents : document.getIn(path.slice(0, length - 1), true);
      // A field of a mapping: point at its key (`urll:`), where people look for it.
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[length - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return position(pair.key.range[0]);
      }
      const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
      if (isNode(node) && node.range) return position(node.range[0]);
    }
    return null;
  };
  const problems = document.errors.map((error) => ({ position: position(error.pos[0]), reason: error.message.split('\n')[0] }));
  if (problems.length > 0) return { value: undefined, problems, locate };
  if (format === 'json') {
    // JSON files must be JSON, not YAML that looks like it (YAML only gives the positions).
    try {
      return { value: JSON.parse(text) as unknown, problems: [], locate };
    } catch (error) {
      return { value: undefined, problems: [{ position: null, reason: `not valid JSON: ${(error as Error).message}` }], locate };
    }
  }
  return { value: document.toJS({ maxAliasCount: 100 }) as unknown, problems: [], locate };
}

/** `automations[2].action.payload.text` → ['automations', 2, 'action', 'payload', 'text']. */
export function fieldPath(field: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const match of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    path.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  }
  return path;
}

/**
 * What a problem's path is about, for messages: `automation "val-loss-good"` for a field
 * under `automations[2]`, and the field below it (`trigger.window`).
 */
export function describeField(document: unknown, field: string): { object: string | null; field: string } {
  const match = /^(webhooks|sources|automations)\[(\d+)\](?:\.(.*))?$/.exec(field);
  if (!match) return { object: null, field };
  const kind = CONFIG_KINDS.find((k) => SECTION[k] === match[1])!;
  const list = isPlainObject(document) ? document[match[1]] : undefined;
  const item: unknown = Array.isArray(list) ? list[Number(match[2])] : undefined;
  const name = isPlainObject(item) && typeof item.name === 'string' ? `"${item.name}"` : `#${Number(match[2]) + 1}`;
  return { object: `${kind} ${name}`, field: match[3] ?? '(the whole object)' };
}

/** One line per problem: `herald.yaml:14:7: automation "x": trigger.window is required`. */
export function formatProblems(file: string, parsed: ParsedConfig, problems: FieldProblem[]): string[] {
  const located = problems.map((problem) => ({ problem, where: parsed.locate(problem.field) }));
  // In the file's order, as an editor lists them.
  located.sort((a, b) => (a.where?.line ?? 0) - (b.where?.line ?? 0) || (a.where?.column ?? 0) - (b.where?.column ?? 0));
  return located.map(({ problem, where }) => {
    const { object, field } = describeField(parsed.value, problem.field);
    const prefix = where ? `${file}:${where.line}:${where.column}` : file;
    return `${prefix}: ${object ? `${object}: ` : ''}${field} ${problem.reason}`;
  });
}

/**
 * The file `herald export` writes. YAML starts with a comment pointing editors to the schema
 * (`schemaUrl`); JSON carries it as `$schema`. Same document in, same text out.
 */
export function serializeConfig(document: ConfigDocument, format: ConfigFormat, schemaUrl: string | null): string {
  if (format === 'json') {
    return `${JSON.stringify(schemaUrl ? { $schema: schemaUrl, ...document } : document, null, 2)}\n`;
  }
  const yaml = new Document(document);
  const header = [
    ' Herald configuration (docs/as-code.md): herald plan -f <file> shows what herald apply -f <file> would change.',
    ...(schemaUrl ? [` yaml-language-server: $schema=${schemaUrl}`] : []),
  ];
  yaml.commentBefore = header.join('\n');
  return yaml.toString({ lineWidth: 0, minContentWidth: 0 });
}
