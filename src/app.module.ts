import { type DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { validationException } from './common/errors/validation';
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
        MetricsModule,
        ConsoleModule,
        HealthModule,
      ],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
            exceptionFactory: validationException,
          }),
        },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
