import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { IncomingHttpHeaders } from 'node:http';
import type { Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { TeamEntity } from '../auth/team.entity';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { SecretRedactor } from '../common/logging/redactor';
import { IngestionService } from '../events/ingestion.service';
import { SecretResolutionError, SecretsService } from '../secrets/secrets.service';
import type { ReceiveResultDto } from './dto/source.dto';
import { SENDERS } from './senders';
import type { InboundRequest, Mapping, SenderFacts } from './senders/sender';
import type { ReceiptEvent } from './source-receipt.entity';
import { SourceReceipts } from './source-receipts';
import { SourceEntity } from './source.entity';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A request to a source's receive URL, as the controller hands it over. */
export interface Delivery {
  sourceId: string;
  /** The token segment of the URL (Valohai), or null. */
  token: string | null;
  headers: IncomingHttpHeaders;
  /** The exact bytes received (undefined for an empty body). */
  body: Buffer | undefined;
}

/**
 * `POST <receiveUrl>`: authenticates a sender's webhook with the sender's own scheme, maps its
 * payload to Herald events and hands them to ingestion — the same validation, idempotency,
 * matching and durable delivery as `POST /v1/events` — then records a receipt of what became
 * of it. Refusals (401, 400) store no event.
 */
@Injectable()
export class SourceReceiver {
  private readonly logger = new Logger('Sources');

  constructor(
    @InjectRepository(SourceEntity) private readonly sources: Repository<SourceEntity>,
    @InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>,
    private readonly secrets: SecretsService,
    private readonly ingestion: IngestionService,
    private readonly receipts: SourceReceipts,
    private readonly redactor: SecretRedactor,
    private readonly clock: Clock,
  ) {}

  async receive(delivery: Delivery): Promise<ReceiveResultDto> {
    const source = await this.sources.findOneBy({ id: delivery.sourceId });
    // A token segment belongs to Valohai sources only; elsewhere the path does not exist.
    if (!source || (delivery.token !== null && source.kind !== 'valohai')) throw ApiError.notFound('Source');
    const receivedAt = this.clock.now();
    const sender = SENDERS[source.kind];
    const refuse = async (status: number, reason: string, facts: SenderFacts): Promise<never> => {
      await this.receipts.record({ sourceId: source.id, receivedAt, ...facts, verdict: 'refused', statusCode: status, reason, events: [] });
      throw new ApiError(status, reason);
    };

    let body: string;
    try {
      body = STRICT_UTF8.decode(delivery.body ?? Buffer.alloc(0));
    } catch {
      return refuse(HttpStatus.BAD_REQUEST, 'the body is not UTF-8 text', { senderId: null, senderEvent: null });
    }
    const request: InboundRequest = { headers: delivery.headers, body, token: delivery.token };

    const credential = await this.credential(source);
    if (credential === null) {
      return refuse(HttpStatus.INTERNAL_SERVER_ERROR, `the secret ${source.secret} of this source cannot be read on the Herald server (see its log)`, {
        senderId: sender.claimedId(request),
        senderEvent: null,
      });
    }
    const auth = sender.authenticate(request, credential, Math.floor(receivedAt / 1000));
    if (!auth.ok) return refuse(HttpStatus.UNAUTHORIZED, auth.reason, { senderId: sender.claimedId(request), senderEvent: null });
    // The token is a credential: keep it out of the access log's path from now on.
    if (delivery.token !== null) this.redactor.remember(delivery.token);

    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return refuse(HttpStatus.BAD_REQUEST, 'the body is not JSON', { senderId: sender.claimedId(request), senderEvent: null });
    }
    const mapping = sender.map(payload, request, { sourceId: source.id, project: source.project });
    const facts: SenderFacts = { senderId: mapping.senderId, senderEvent: mapping.senderEvent };
    if (mapping.outcome === 'invalid') return refuse(HttpStatus.BAD_REQUEST, mapping.reason, facts);
    if (mapping.outcome === 'ignored') {
      await this.receipts.record({ sourceId: source.id, receivedAt, ...facts, verdict: 'ignored', statusCode: HttpStatus.OK, reason: mapping.reason, events: [] });
      return { verdict: 'ignored', reason: mapping.reason, events: [] };
    }
    return this.ingest(source, mapping, receivedAt, refuse);
  }

  /** Stores the events through ingestion, exactly as POST /v1/events would, and records the outcome. */
  private async ingest(
    source: SourceEntity,
    mapping: Extract<Mapping, { outcome: 'events' }>,
    receivedAt: number,
    refuse: (status: number, reason: string, facts: SenderFacts) => Promise<never>,
  ): Promise<ReceiveResultDto> {
    const facts: SenderFacts = { senderId: mapping.senderId, senderEvent: mapping.senderEvent };
    let results: Awaited<ReturnType<IngestionService['ingest']>>['results'];
    try {
      results = (await this.ingestion.ingest(await this.authFor(source), mapping.events)).results;
    } catch (error) {
      if (error instanceof ApiError) return refuse(error.getStatus(), `the mapped event was refused: ${error.message}`, facts);
      throw error;
    }
    const events: ReceiptEvent[] = results.map((r) => ({ id: r.id, type: mapping.events[r.index].type, duplicate: r.duplicate }));
    const reason = events.every((e) => e.duplicate) ? 'a repeat of an earlier delivery: nothing fired again' : null;
    await this.receipts.record({ sourceId: source.id, receivedAt, ...facts, verdict: 'accepted', statusCode: HttpStatus.OK, reason, events });
    return { verdict: 'accepted', reason, events };
  }

  /** The secret's value or the token hash a request is checked against; null when the secret cannot be read. */
  private async credential(source: SourceEntity): Promise<string | null> {
    if (SENDERS[source.kind].credential === 'token') return source.tokenHash;
    try {
      return await this.secrets.resolve(source.teamId, source.secret!);
    } catch (error) {
      if (!(error instanceof SecretResolutionError)) throw error;
      this.logger.error({ msg: 'source secret cannot be resolved', sourceId: source.id, reason: error.message });
      return null;
    }
  }

  /** Ingestion sees a source as an ingest key of its team, for all of the team's projects. */
  private async authFor(source: SourceEntity): Promise<AuthContext> {
    const team = await this.teams.findOneByOrFail({ id: source.teamId });
    return { teamId: team.id, teamName: team.name, keyId: `source:${source.id}`, role: 'ingest', projects: null };
  }
}
