import { type DynamicModule, Global, Module } from '@nestjs/common';
import { BackgroundThread } from '../common/background-thread';
import { Clock } from '../common/clock';
import { ConsoleOutput } from '../common/console-output';
import { HostResolver } from '../delivery/host-resolver';
import { SecretRedactor } from '../common/logging/redactor';
import { HeraldConfig } from './config';

export interface CoreOptions {
  config: HeraldConfig;
  /** Shared with the logger, which is built before the module graph. */
  redactor: SecretRedactor;
  output?: ConsoleOutput;
  clock?: Clock;
  /** Name resolution for checks before sending (tests answer from a table). */
  resolver?: HostResolver;
}

/** Process-wide providers every feature may inject: config, clock, redactor, console output, name resolution, the background thread. */
@Global()
@Module({})
export class CoreModule {
  static register(options: CoreOptions): DynamicModule {
    const providers = [
      { provide: HeraldConfig, useValue: options.config },
      { provide: SecretRedactor, useValue: options.redactor },
      { provide: ConsoleOutput, useValue: options.output ?? new ConsoleOutput() },
      { provide: Clock, useValue: options.clock ?? new Clock() },
      { provide: HostResolver, useValue: options.resolver ?? new HostResolver() },
      { provide: BackgroundThread, useValue: new BackgroundThread() },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
