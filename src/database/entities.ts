import { AutomationStateEntity } from '../automations/automation-state.entity';
import { AutomationEntity } from '../automations/automation.entity';
import { DeliveryAttemptEntity } from '../delivery/delivery-attempt.entity';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { EventEntity } from '../events/event.entity';
import { RunEntity } from '../events/run.entity';
import { RunStaleTimerEntity } from '../events/run-stale-timer.entity';
import { ApiKeyEntity } from '../auth/api-key.entity';
import { TeamEntity } from '../auth/team.entity';
import { SecretEntity } from '../secrets/secret.entity';
import { SourceReceiptEntity } from '../sources/source-receipt.entity';
import { SourceEntity } from '../sources/source.entity';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { SettingEntity } from './setting.entity';

/** Every entity, registered once here for the app and the TypeORM CLI alike. */
export const ENTITIES = [
  TeamEntity,
  ApiKeyEntity,
  SecretEntity,
  SettingEntity,
  WebhookEntity,
  AutomationEntity,
  AutomationStateEntity,
  EventEntity,
  RunEntity,
  RunStaleTimerEntity,
  DeliveryEntity,
  DeliveryAttemptEntity,
  SourceEntity,
  SourceReceiptEntity,
];
