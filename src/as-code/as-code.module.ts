import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { SourcesModule } from '../sources/sources.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AsCodeController } from './as-code.controller';
import { AsCodeService } from './as-code.service';

/** Configuration as code (docs/as-code.md): the file's JSON Schema and the server's check of a whole file. */
@Module({
  imports: [DatabaseModule, WebhooksModule, SourcesModule],
  controllers: [AsCodeController],
  providers: [AsCodeService],
})
export class AsCodeModule {}
