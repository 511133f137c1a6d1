import { compositeKey } from '../common/identifiers';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldProblem } from '../common/errors/api-error';
import { duplicateNameProblems } from './config-document';
import { MAX_CONFIG_SECTION_ITEMS, buildConfigSchema } from './config-schema';

let compiled: ValidateFunction | undefined;

/**
 * Checks a parsed file against the configuration schema, and what a schema cannot say (a name
 * given twice). Every problem at once, each with its path (`automations[2].trigger.window`).
 * The server's own validation (POST /v1/config/validate) comes after this and checks the rest.
 */
export function schemaProblems(document: unknown): FieldProblem[] {
  // Too long a section first, alone: checking each of its objects is the work the bound prevents.
  const tooLong = oversizedSections(document);
  if (tooLong.length > 0) return tooLong;
  compiled ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(buildConfigSchema());
  const problems = compiled(document) ? [] : (compiled.errors ?? []).flatMap(toProblem);
  problems.push(...duplicateNameProblems(document));
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = compositeKey(p.field, p.reason);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** An Ajv error as Herald words problems: the field's path and a reason that does not repeat it. */
function toProblem(error: ErrorObject): FieldProblem[] {
  const at = pathOf(error.instancePath);
  const join = (key: string) => (at ? `${at}.${key}` : key);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      // "must match then/else": the branch's own errors say what is wrong.
      return [];
    case 'required':
      return [{ field: join(String(params.missingProperty)), reason: 'is required' }];
    case 'additionalProperties':
      return [{ field: join(String(params.additionalProperty)), reason: 'is not an allowed field' }];
    case 'enum':
      return [{ field: at || 'file', reason: `must be one of ${(params.allowedValues as unknown[]).join(', ')}` }];
    case 'const':
      return [{ field: at || 'file', reason: `must be ${JSON.stringify(params.allowedValue)}` }];
    case 'not': {
      // Herald's schema uses `not: {required: [...]}` for fields that must be left out; the
      // `not` itself, or the schema holding it, describes why.
      const negated = error.schema as { description?: string; required?: string[] } | undefined;
      const description = negated?.description ?? (error.parentSchema as { description?: string } | undefined)?.description;
      const field = negated?.required?.length === 1 ? join(negated.required[0]) : at || 'file';
      return [{ field, reason: description ?? 'is not allowed here' }];
    }
    default:
      return [{ field: at || 'file', reason: error.message ?? `fails ${error.keyword}` }];
  }
}

/** `/automations/2/trigger/window` → `automations[2].trigger.window`. */
function pathOf(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : path ? `.${segment}` : segment;
  }
  return path;
}

function oversizedSections(document: unknown): FieldProblem[] {
  if (typeof document !== 'object' || document === null) return [];
  return ['webhooks', 'sources', 'automations'].flatMap((section) => {
    const list = (document as Record<string, unknown>)[section];
    return Array.isArray(list) && list.length > MAX_CONFIG_SECTION_ITEMS
      ? [{ field: section, reason: `must NOT have more than ${MAX_CONFIG_SECTION_ITEMS} items` }]
      : [];
  });
}
