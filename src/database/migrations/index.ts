import { Foundation1763856000000 } from './1763856000000-Foundation';
import { Webhooks1763942400000 } from './1763942400000-Webhooks';
import { Automations1764028800000 } from './1764028800000-Automations';
import { WebhookHealth1764115200000 } from './1764115200000-WebhookHealth';
import { AutomationsVersion1764201600000 } from './1764201600000-AutomationsVersion';
import { Sources1764288000000 } from './1764288000000-Sources';
import { DeliveryQueueIndexes1764374400000 } from './1764374400000-DeliveryQueueIndexes';
import { SecretPreviousValues1764633600000 } from './1764633600000-SecretPreviousValues';
import { RunContext1764720000000 } from './1764720000000-RunContext';
import { EventBatchIndex1764806400000 } from './1764806400000-EventBatchIndex';
import { EventIdsPerProject1764892800000 } from './1764892800000-EventIdsPerProject';
import { AutomationFilter1764979200000 } from './1764979200000-AutomationFilter';
import { RunStaleTimers1765065600000 } from './1765065600000-RunStaleTimers';
import { DeliveryWebhookIndexes1765152000000 } from './1765152000000-DeliveryWebhookIndexes';
import { FirstAttemptInRow1765238400000 } from './1765238400000-FirstAttemptInRow';

/** Every migration in order. Listed as classes so ts-jest, ts-node and dist/ load the same set. */
export const MIGRATIONS = [
  Foundation1763856000000,
  Webhooks1763942400000,
  Automations1764028800000,
  WebhookHealth1764115200000,
  AutomationsVersion1764201600000,
  Sources1764288000000,
  DeliveryQueueIndexes1764374400000,
  SecretPreviousValues1764633600000,
  RunContext1764720000000,
  EventBatchIndex1764806400000,
  EventIdsPerProject1764892800000,
  AutomationFilter1764979200000,
  RunStaleTimers1765065600000,
  DeliveryWebhookIndexes1765152000000,
  FirstAttemptInRow1765238400000,
];
