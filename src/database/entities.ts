import { ApiKeyEntity } from '../auth/api-key.entity';
import { TeamEntity } from '../auth/team.entity';
import { SecretEntity } from '../secrets/secret.entity';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { SettingEntity } from './setting.entity';

/** Every entity, registered once here for the app and the TypeORM CLI alike. */
export const ENTITIES = [TeamEntity, ApiKeyEntity, SecretEntity, SettingEntity, WebhookEntity];
