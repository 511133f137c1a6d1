import { parse } from 'yaml';
import { schemaProblems } from './config-check';
import { type ConfigDocument } from './config-document';
import { describeField, fieldPath, formatOf, formatProblems, parseConfigText, serializeConfig } from './config-file';
import { buildConfigSchema } from './config-schema';
import { dtoSchema, dtoSchemaGaps } from './dto-schema';
import { IsEmail, MaxLength } from 'class-validator';
import { CreateSourceDto } from '../sources/dto/source.dto';
import { CreateWebhookDto } from '../webhooks/dto/webhook.dto';

const document: ConfigDocument = {
  version: 1,
  webhooks: [{ name: 'alerts', kind: 'generic', url: 'https://example.com/h', headers: { 'X-Team': 'ml' } }],
  automations: [
    {
      name: 'loss',
      scope: { type: 'project', name: 'llm' },
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'LAST', window: 1, op: '>', threshold: 0.2 },
      action: { webhook: 'alerts', payload: '{"text": "${run_name} is at ${metric_value}"}\n' },
    },
  ],
};

describe('configuration files', () => {
  it('YAML and JSON round trip: what is written reads back the same, and writing twice gives the same text', () => {
    for (const format of ['yaml', 'json'] as const) {
      const text = serializeConfig(document, format, 'http://h/v1/schema/config.json');
      const parsed = parseConfigText(text, format);
      expect(parsed.problems).toEqual([]);
      const { $schema, ...rest } = parsed.value as Record<string, unknown>;
      expect(rest).toEqual(document);
      expect(serializeConfig(rest as unknown as ConfigDocument, format, 'http://h/v1/schema/config.json')).toBe(text);
      expect(format === 'json' ? $schema : undefined).toBe(format === 'json' ? 'http://h/v1/schema/config.json' : undefined);
    }
    const yaml = serializeConfig(document, 'yaml', 'http://h/v1/schema/config.json');
    expect(yaml).toMatch(/^# Herald configuration/);
    expect(yaml).toContain('# yaml-language-server: $schema=http://h/v1/schema/config.json');
    // `>` must be quoted in YAML, and is.
    expect(parse(yaml).automations[0].trigger.op).toBe('>');
  });

  it('YAML 1.2: yes/no/on stay strings; duplicate keys and bad syntax are problems with their line', () => {
    expect((parseConfigText('version: 1\nx: yes\n', 'yaml').value as { x: unknown }).x).toBe('yes');
    const duplicate = parseConfigText('version: 1\nversion: 2\n', 'yaml');
    expect(duplicate.value).toBeUndefined();
    expect(duplicate.problems[0]).toMatchObject({ position: { line: 2, column: 1 } });
    expect(parseConfigText('{"version": 1,}', 'json').problems[0].reason).toMatch(/not valid JSON/);
    expect(formatOf('a/b/herald.JSON')).toBe('json');
    expect(formatOf('herald.yml')).toBe('yaml');
  });

  it('problems name the file, line and column, the object by name and the field', () => {
    const text = 'version: 1\nautomations:\n  - name: loss\n    scope: {type: project, name: llm}\n    trigger:\n      event: RUN_STATE\n      states: [DONE]\n';
    const parsed = parseConfigText(text, 'yaml');
    const problems = schemaProblems(parsed.value);
    expect(formatProblems('h.yaml', parsed, problems)).toEqual([
      'h.yaml:3:5: automation "loss": action is required',
      'h.yaml:7:16: automation "loss": trigger.states[0] must be one of RUNNING, FINISHED, FAILED, CRASHED, KILLED',
    ]);
    expect(fieldPath('automations[2].action.payload.text')).toEqual(['automations', 2, 'action', 'payload', 'text']);
    expect(describeField({ webhooks: [{}] }, 'webhooks[0].url')).toEqual({ object: 'webhook #1', field: 'url' });
    expect(describeField({}, 'version')).toEqual({ object: null, field: 'version' });
  });
});

describe('the JSON Schema', () => {
  it('is built from the API\'s rules: DTO limits, trigger fields, presets', () => {
    const schema = buildConfigSchema() as { definitions: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    const webhook = schema.definitions.webhook;
    expect(webhook.properties.url).toMatchObject({ type: 'string', maxLength: 2048 });
    expect(webhook.properties.accessTokenSecret).toMatchObject({ type: ['string', 'null'], pattern: '^[A-Z][A-Z0-9_]{0,63}$' });
    expect((webhook.properties.delivery as { properties: Record<string, unknown> }).properties.ratePerSecond).toMatchObject({ minimum: 0.01, maximum: 10_000 });
    expect((webhook as unknown as { required: string[] }).required).toEqual(['name', 'url', 'kind']);
    expect(schema.definitions.source.properties.kind).toMatchObject({ enum: ['mlflow', 'determined', 'huggingface', 'wandb', 'valohai'] });
  });

  it('checks each trigger\'s own fields, NON_FINITE thresholds, scopes, actions and sources\' secrets', () => {
    const base = { name: 'a', scope: { type: 'project', name: 'p' }, action: { webhook: 'w' } };
    const check = (automation: object) => schemaProblems({ version: 1, automations: [{ ...base, ...automation }] });
    expect(check({ trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'm', op: 'NON_FINITE' } })).toEqual([]);
    expect(check({ trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'm', op: 'NON_FINITE', window: 3 } })).toEqual([
      { field: 'automations[0].trigger.window', reason: 'is not an allowed field' },
    ]);
    expect(check({ trigger: { event: 'RUN_METRIC_ZSCORE', metric: 'm', window: 0, threshold: 0, direction: 'UP' } })).toEqual(
      expect.arrayContaining([
        { field: 'automations[0].trigger.window', reason: 'must be >= 1' },
        { field: 'automations[0].trigger.threshold', reason: 'must be > 0' },
        { field: 'automations[0].trigger.direction', reason: 'must be one of INCREASE, DECREASE, ANY' },
      ]),
    );
    expect(check({ trigger: { event: 'ADD_ARTIFACT_TAG', tagRegex: 'x' }, runFilter: { user: 'u' } })).toEqual([
      { field: 'automations[0].runFilter', reason: 'artifact triggers take no runFilter' },
    ]);
    expect(check({ trigger: { event: 'ALERT', levels: ['WARN'] }, action: { webhook: 'w', payload: {}, template: 'slack' } })).toEqual([
      { field: 'automations[0].action', reason: 'takes at most one of payload and template' },
    ]);
    expect(check({ trigger: { event: 'ALERT', levels: ['WARN'] }, scope: { type: 'team', name: 'x' } })).toEqual([
      { field: 'automations[0].scope.name', reason: 'a team scope takes no name' },
    ]);
    expect(schemaProblems({ version: 1, sources: [{ name: 'v', kind: 'valohai', project: 'p', secret: 'S' }, { name: 'm', kind: 'mlflow', project: 'p' }] })).toEqual([
      { field: 'sources[0].secret', reason: 'takes no secret (its receive URL carries a token)' },
      { field: 'sources[1].secret', reason: 'is required' },
    ]);
    expect(schemaProblems({ version: 2, extra: 1 })).toEqual([
      { field: 'extra', reason: 'is not an allowed field' },
      { field: 'version', reason: 'must be 1' },
    ]);
    expect(schemaProblems({ version: 1, webhooks: [{ name: 'a', kind: 'slack', url: 'u' }, { name: 'a', kind: 'slack', url: 'u' }] })).toEqual([
      { field: 'webhooks[1].name', reason: 'is given twice: webhooks[0] is also "a"' },
    ]);
  });

  it('expresses every rule of the webhook and source DTOs; a rule it does not know is left out and listed', () => {
    expect(dtoSchemaGaps(CreateWebhookDto)).toEqual([]);
    expect(dtoSchemaGaps(CreateSourceDto)).toEqual([]);
    class WithEmail {
      @IsEmail()
      @MaxLength(80)
      email!: string;
    }
    expect(dtoSchemaGaps(WithEmail)).toEqual(['WithEmail.email @isEmail']);
    expect(dtoSchema(WithEmail)).toMatchObject({ properties: { email: { maxLength: 80 } }, required: ['email'] });
  });
});
