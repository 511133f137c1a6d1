import { Clock } from '../../src/common/clock';

/** A clock tests move by hand (cooldowns, leases, failure streaks). */
export class FakeClock extends Clock {
  constructor(public ms = Date.parse('2026-11-22T08:00:00Z')) {
    super();
  }

  override now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
