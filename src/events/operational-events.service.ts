import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { TeamEntity } from '../auth/team.entity';
import { Clock } from '../common/clock';
import { DeliveryFailureFeed, type DeliveryFailure } from '../delivery/delivery-failures';
import { EventEntity } from './event.entity';
import { IngestionService } from './ingestion.service';
import { HERALD_PROJECT, operationalEvents } from './operational-events';

/** Tries per failure before giving up (the database busy, a deadlock on PostgreSQL). */
const TRIES = 3;
const RETRY_DELAY_MS = 200;

/**
 * Turns what the delivery worker reports (a delivery that ended `failed`, a webhook it
 * disabled) into WEBHOOK_DISABLED and DELIVERY_FAILED events, through the same ingestion as
 * POST /v1/events: stored, listed, matched by the team's automations, delivered durably.
 *
 * It runs after the attempt's transaction committed, in the process that recorded it. The ids
 * are deterministic, so a repeat is a duplicate; a crash between that commit and this emission
 * loses the event (the delivery's and the webhook's state are recorded all the same).
 */
@Injectable()
export class OperationalEvents implements OnModuleInit {
  private readonly logger = new Logger('OperationalEvents');

  constructor(
    private readonly feed: DeliveryFailureFeed,
    private readonly ingestion: IngestionService,
    @InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>,
    @InjectRepository(EventEntity) private readonly events: Repository<EventEntity>,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.feed.subscribe((failure) => this.emit(failure));
  }

  async emit(failure: DeliveryFailure): Promise<void> {
    const team = await this.teams.findOneBy({ id: failure.teamId });
    if (!team) return;
    const project = failure.failed ? await this.projectOf(failure) : HERALD_PROJECT;
    const events = operationalEvents(failure, project, new Date(this.clock.now()).toISOString());
    // Herald itself, for all of the team's projects; `keyId` shows in nothing but this context.
    const auth: AuthContext = { teamId: team.id, teamName: team.name, keyId: 'herald', role: 'ingest', projects: null };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ingestion.ingest(auth, events, 'herald');
        return;
      } catch (error) {
        if (attempt >= TRIES) {
          this.logger.error(`Could not emit ${events.map((e) => e.id).join(', ')}: ${(error as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
    }
  }

  /** The project of the event the failed delivery carried; `herald` when it has none or it was pruned. */
  private async projectOf(failure: DeliveryFailure): Promise<string> {
    const eventId = failure.delivery.eventId;
    if (eventId === null) return HERALD_PROJECT;
    // Ids are unique per project: when two projects used this one, the newest event is taken.
    const row = await this.events.findOne({ where: { teamId: failure.teamId, id: eventId }, select: { project: true }, order: { receivedAt: 'DESC' } });
    return row?.project ?? HERALD_PROJECT;
  }
}
