import { Injectable } from '@nestjs/common';

/**
 * Text for the operator's eyes only, written to stdout outside the structured log (the
 * generated bootstrap key): log pipelines must not collect it.
 */
@Injectable()
export class ConsoleOutput {
  print(text: string): void {
    process.stdout.write(text);
  }
}
