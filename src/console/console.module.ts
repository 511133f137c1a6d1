import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { consoleDirectory } from './console-assets';
import { ConsoleController } from './console.controller';

/** The web console (docs/console.md): static files served at /console, no API of its own. */
@Module({ controllers: [ConsoleController] })
export class ConsoleModule implements OnModuleInit {
  onModuleInit(): void {
    const index = path.join(consoleDirectory(), 'index.html');
    if (!existsSync(index)) {
      new Logger('Console').warn({ msg: 'console files not found: /console answers 404', expected: index });
    }
  }
}
