/** The store's notion of now: injectable so tests can move through trials and periods. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | number = Date.now()) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: Date | number): void {
    this.current = typeof to === 'number' ? to : to.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * A clock that reads `startAt` when it is made and then runs at the speed of the real one:
 * a store started with `licensekit serve --now` (development and tests only, see
 * config-clock.ts) pretends it is another time while requests still take real time.
 */
export function shiftedClock(startAt: Date | number, realNow: () => number = Date.now): Clock {
  const offset = (typeof startAt === 'number' ? startAt : startAt.getTime()) - realNow();
  return { now: () => new Date(realNow() + offset) };
}
