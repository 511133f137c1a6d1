import { Injectable } from '@nestjs/common';

/** The server clock, behind a provider so tests can move time. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}
