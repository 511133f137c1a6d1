import { TRIGGER_NAMES } from '../src/automations/triggers';
import { ATTEMPT_ERROR_CLASSES } from '../src/delivery/delivery-failures';
import { DELIVERY_STATUSES } from '../src/delivery/delivery-status';
import { auditOpenApi, type OpenApiDocument, type OpenApiSchema } from './support/openapi-audit';
import { TestHerald, bearer } from './support/herald';

/**
 * The OpenAPI document at /docs/json, as a client generator reads it: complete (every
 * operation has a response schema and error examples, every parameter and property a
 * description), with the automation's parts as discriminated unions.
 */
describe('OpenAPI document (e2e)', () => {
  let herald: TestHerald;
  let document: OpenApiDocument;
  const schemas = () => document.components!.schemas!;
  const json = (path: string, method: string, status: string) =>
    document.paths![path][method].responses![status].content!['application/json'];

  beforeAll(async () => {
    herald = await TestHerald.start();
    document = (await herald.http().get('/docs/json').expect(200)).body as OpenApiDocument;
  });
  afterAll(async () => herald?.destroy());

  it('is complete: response schemas, error examples, and a description on every parameter and property', () => {
    expect(auditOpenApi(document)).toEqual([]);
  });

  it('the audit fails on a missing description, response schema or error example', () => {
    const broken = JSON.parse(JSON.stringify(document)) as OpenApiDocument;
    delete broken.components!.schemas!.DeliveryDto.properties!.status.description;
    delete broken.paths!['/v1/events/{id}'].get.responses!['200'].content;
    delete broken.paths!['/v1/webhooks/{id}'].get.parameters![0].description;
    delete broken.paths!['/v1/webhooks/{id}'].get.responses!['404'].content!['application/json'].example;
    delete broken.paths!['/v1/webhooks'].get.summary;
    expect(auditOpenApi(broken)).toEqual([
      'GET /v1/webhooks: no summary',
      'GET /v1/webhooks/{id}: parameter path id has no description',
      'GET /v1/webhooks/{id} 404: no error example',
      'GET /v1/events/{id} 200: no response schema',
      'schema DeliveryDto.status: no description',
    ]);
  });

  it('types trigger, scope and action as unions: oneOf with a discriminator', () => {
    const create = schemas().CreateAutomationDto.properties!;
    const trigger = create.trigger;
    expect(trigger.discriminator?.propertyName).toBe('event');
    expect(Object.keys(trigger.discriminator!.mapping!).sort()).toEqual([...TRIGGER_NAMES].sort());
    for (const [event, ref] of Object.entries(trigger.discriminator!.mapping!)) {
      const variant = schemas()[ref.split('/').pop()!];
      expect(variant.properties!.event.enum).toEqual([event]);
      expect(trigger.oneOf).toContainEqual({ $ref: ref });
    }
    const threshold = schemas().RunMetricThresholdTrigger;
    expect(threshold.properties!.op.enum).toContain('NON_FINITE');
    expect(Object.keys(threshold.properties!)).toEqual(['event', 'metric', 'agg', 'window', 'op', 'threshold']);
    expect(create.scope.discriminator).toEqual(expect.objectContaining({ propertyName: 'type' }));
    expect(create.scope.oneOf).toHaveLength(3);
    expect(create.action.oneOf!.map((part) => part.$ref)).toEqual([
      '#/components/schemas/PayloadAction',
      '#/components/schemas/PresetAction',
      '#/components/schemas/DefaultAction',
    ]);
    expect(create.runFilter.allOf).toEqual([{ $ref: '#/components/schemas/RunFilter' }]);
    // The stored automation answers in the same types.
    expect(schemas().AutomationDto.properties!.trigger.discriminator).toEqual(trigger.discriminator);
  });

  it('documents POST /v1/events as one event or an array, and GET /v1/events/:id with its outcome', () => {
    const body = document.paths!['/v1/events'].post.requestBody!.content!['application/json'].schema!;
    expect(body.oneOf).toEqual([
      { $ref: '#/components/schemas/EventDto' },
      expect.objectContaining({ type: 'array', items: { $ref: '#/components/schemas/EventDto' }, maxItems: 1000 }),
    ]);
    expect(json('/v1/events/{id}', 'get', '200').schema).toEqual({ $ref: '#/components/schemas/EventDetailDto' });
    expect(json('/v1/events', 'get', '200').schema).toEqual({ $ref: '#/components/schemas/EventPageDto' });
    const outcome = schemas().EventOutcomeDto.properties!;
    expect(Object.keys(outcome)).toEqual(['matched', 'suppressed', 'failed']);
  });

  it('enumerates delivery statuses and attempt error classes from their owners', () => {
    const status: OpenApiSchema = schemas().DeliveryDto.properties!.status;
    expect(status.enum).toEqual([...DELIVERY_STATUSES]);
    for (const name of DELIVERY_STATUSES) expect(status.description).toContain(`${name}: `);
    const errorClass = schemas().AttemptDto.properties!.errorClass;
    expect(errorClass.enum).toEqual(Object.keys(ATTEMPT_ERROR_CLASSES));
    for (const name of Object.keys(ATTEMPT_ERROR_CLASSES)) expect(errorClass.description).toContain(`${name}: `);
  });

  it('gives error examples that fit the operation, in the shape the API really answers', async () => {
    const admin = bearer(herald.adminKey);
    const notFound = json('/v1/webhooks/{id}', 'get', '404').example as { message: string };
    expect(notFound.message).toMatch(/^Webhook wh_\w+ not found$/);
    const real = await herald.http().get('/v1/webhooks/wh_nope').set(admin).expect(404);
    expect(real.body.message).toMatch(/^Webhook \S+ not found$/);
    expect(Object.keys(real.body).sort()).toEqual(Object.keys(notFound).sort());

    // A 400 names a field of the operation's own input.
    const invalid = json('/v1/webhooks', 'post', '400').example as { details: { field: string }[] };
    expect(Object.keys(schemas().CreateWebhookDto.properties!)).toContain(invalid.details[0].field);
    const invalidList = json('/v1/deliveries', 'get', '400').example as { details: { field: string }[] };
    expect(document.paths!['/v1/deliveries'].get.parameters!.map((p) => p.name)).toContain(invalidList.details[0].field);

    // The role a 403 names is the one the operation needs; a list has no 404, an id-only GET no 400.
    expect((json('/v1/webhooks', 'post', '403').example as { message: string }).message).toMatch(/needs a key with role admin/);
    expect((json('/v1/webhooks', 'get', '403').example as { message: string }).message).toMatch(/needs a key with role member/);
    expect(document.paths!['/v1/webhooks'].get.responses!['404']).toBeUndefined();
    expect(document.paths!['/v1/webhooks/{id}'].get.responses!['400']).toBeUndefined();
    expect((json('/v1/deliveries/{id}/redeliver', 'post', '409').example as { statusCode: number }).statusCode).toBe(409);
  });
});
