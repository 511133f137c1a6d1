import {
  type AutomationView,
  CONFIG_VERSION,
  type ConfigDocument,
  type SourceView,
  type WebhookView,
  automationConfigOf,
  sortByName,
  sourceConfigOf,
  webhookConfigOf,
} from '../as-code/config-document';
import type { TeamState } from '../as-code/config-plan';
import type { HeraldClient } from './client';

/** Everything of the team a file describes, read from the API, in canonical form. */
export async function readTeamState(client: HeraldClient): Promise<TeamState> {
  const [webhooks, sources, automations, secrets] = await Promise.all([
    client.listAll<WebhookView>('/v1/webhooks'),
    client.listAll<SourceView>('/v1/sources'),
    client.listAll<AutomationView>('/v1/automations'),
    client.listAll<{ name: string }>('/v1/secrets'),
  ]);
  const webhookNames = new Map(webhooks.map((w) => [w.id, w.name]));
  return {
    webhooks: webhooks.map((view) => ({
      id: view.id,
      etag: view.etag,
      config: webhookConfigOf(view),
      disabledBy: !view.enabled && view.disabledReason !== 'user' ? view.disabledReason : null,
    })),
    sources: sources.map((view) => ({ id: view.id, etag: view.etag, config: sourceConfigOf(view) })),
    automations: automations.map((view) => ({ id: view.id, etag: view.etag, config: automationConfigOf(view, webhookNames) })),
    secrets: secrets.map((s) => s.name),
  };
}

/** The file `herald export` writes: every section, each sorted by name. */
export function documentOf(state: TeamState): ConfigDocument {
  return {
    version: CONFIG_VERSION,
    webhooks: sortByName(state.webhooks.map((o) => o.config)),
    sources: sortByName(state.sources.map((o) => o.config)),
    automations: sortByName(state.automations.map((o) => o.config)),
  };
}
