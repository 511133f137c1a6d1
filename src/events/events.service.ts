import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { ApiError } from '../common/errors/api-error';
import { decodeTimeCursor, limitOf, type Page, timeSortKey, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import type { DeliveryStatus } from '../delivery/delivery-status';
import { AutomationEntity } from '../automations/automation.entity';
import { DeliveryEntity } from '../delivery/delivery.entity';
import type { EventListQueryDto } from './dto/event-query.dto';
import { type EventOutcome, namedOutcome, notFiredAutomationIds } from './event-outcome';
import { EventEntity } from './event.entity';
import type { HeraldEvent } from './event.types';

export interface EventSummary {
  id: string;
  type: string;
  project: string;
  runId: string | null;
  /** The run's name as the event gave it. */
  runName: string | null;
  /** Its position in the request that posted it (0 for a single event). */
  batchIndex: number;
  occurredAt: string;
  receivedAt: string;
  matched: number;
}

export interface EventDetail extends EventSummary {
  event: HeraldEvent;
  outcome: EventOutcome;
  /** The deliveries the event made, with their current status. */
  deliveries: { id: string; automationId: string | null; automationName: string | null; webhookId: string; status: DeliveryStatus }[];
}

/** Stored events: newest first, filtered by run, type or project. */
@Injectable()
export class EventsService {
  constructor(
    @InjectRepository(EventEntity) private readonly events: Repository<EventEntity>,
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectRepository(AutomationEntity) private readonly automations: Repository<AutomationEntity>,
  ) {}

  async list(auth: AuthContext, query: EventListQueryDto): Promise<Page<EventSummary>> {
    const limit = limitOf(query);
    const qb = this.events.createQueryBuilder('e').where('e.team_id = :teamId', { teamId: auth.teamId });
    if (query.run) qb.andWhere('e.run_id = :run', { run: query.run });
    if (query.type) qb.andWhere('e.type = :type', { type: query.type });
    if (query.project) qb.andWhere('e.project = :project', { project: query.project });
    // Newest first; the events of one request share their received time and list last-sent first.
    const after = decodeEventCursor(query.cursor);
    if (after) {
      qb.andWhere(
        '(e.received_at < :time OR (e.received_at = :time AND (e.batch_index < :batch OR (e.batch_index = :batch AND e.id < :id))))',
        after,
      );
    }
    const rows = await qb.orderBy('e.received_at', 'DESC').addOrderBy('e.batch_index', 'DESC').addOrderBy('e.id', 'DESC').take(limit + 1).getMany();
    return toPage(rows, limit, (row) => timeSortKey(row.receivedAt, `${row.batchIndex}:${row.id}`), summaryOf);
  }

  async get(auth: AuthContext, id: string): Promise<EventDetail> {
    // Ids are unique per project: when two projects used one, the newest is answered.
    const row = await this.events.findOne({ where: { teamId: auth.teamId, id }, order: { receivedAt: 'DESC' } });
    if (!row) throw ApiError.notFound(`Event ${id}`);
    const ids = [
      ...row.outcome.matched.map((m) => m.deliveryId),
      ...row.outcome.suppressed.flatMap((s) => (s.deliveryId ? [s.deliveryId] : [])),
    ];
    const deliveries = ids.length === 0 ? [] : await this.deliveries.find({ where: { teamId: auth.teamId, id: In(ids) } });
    return {
      ...summaryOf(row),
      event: row.body,
      outcome: namedOutcome(row.outcome, await this.automationNames(auth.teamId, notFiredAutomationIds(row.outcome))),
      deliveries: deliveries.map((d) => ({
        id: d.id,
        automationId: d.automationId,
        automationName: d.automationName,
        webhookId: d.webhookId,
        status: d.status,
      })),
    };
  }

  /** The current names of these automations of the team, by id (a deleted one has none). */
  private async automationNames(teamId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.automations.find({ select: { id: true, name: true }, where: { teamId, id: In(ids) } });
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}

/** The list's cursor: received time, then `batchIndex:id`. */
function decodeEventCursor(cursor: string | undefined): { time: number; batch: number; id: string } | null {
  const after = decodeTimeCursor(cursor);
  if (after === null) return null;
  const at = after.id.indexOf(':');
  const batch = Number(after.id.slice(0, at));
  if (at < 1 || !Number.isSafeInteger(batch)) throw ApiError.invalidField('cursor', 'is not a cursor issued by this endpoint');
  return { time: after.time, batch, id: after.id.slice(at + 1) };
}

function summaryOf(row: EventEntity): EventSummary {
  return {
    id: row.id,
    type: row.type,
    project: row.project,
    runId: row.runId,
    runName: row.body.run?.name ?? null,
    batchIndex: row.batchIndex,
    occurredAt: isoTime(row.occurredAt)!,
    receivedAt: isoTime(row.receivedAt)!,
    matched: row.outcome.matched.length,
  };
}
