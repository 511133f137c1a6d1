import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { createValidationPipe } from './common/errors/validation';
import { CoreModule, type CoreOptions } from './config/core.module';
import { DatabaseModule } from './database/database.module';
import { SecretsModule } from './secrets/secrets.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { AutomationsModule } from './automations/automations.module';
import { EventsModule } from './events/events.module';
import { MetricsModule } from './metrics/metrics.module';
import { ConsoleModule } from './console/console.module';
import { HealthModule } from './health/health.module';
import { SourcesModule } from './sources/sources.module';
import { AsCodeModule } from './as-code/as-code.module';

@Module({})
export class AppModule {
  static register(core: CoreOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(core),
        DatabaseModule,
        AuthModule,
        SecretsModule,
        WebhooksModule,
        AutomationsModule,
        EventsModule,
        SourcesModule,
        AsCodeModule,
        MetricsModule,
        ConsoleModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_PIPE, useValue: createValidationPipe() },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
