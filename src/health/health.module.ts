import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { HealthController } from './health.controller';

/** GET /health: liveness and readiness (the database answers). */
@Module({ imports: [DatabaseModule], controllers: [HealthController] })
export class HealthModule {}
