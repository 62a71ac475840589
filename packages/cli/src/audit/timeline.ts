/**
 * Per-license timelines for the HTML report, bounded: the first licenses seen up to a cap,
 * and per license the first token and the most recent ones. The report says what it left
 * out; the JSON findings are complete whatever the caps.
 */
import type { TokenEvent } from './lineage.js';

export const MAX_LICENSES = 300;
export const MAX_EVENTS = 40;

export interface LicenseTimeline {
  readonly license: string;
  readonly events: TokenEvent[];
  /** Tokens not kept (between the first and the most recent). */
  dropped: number;
}

export class Timelines {
  readonly #licenses = new Map<string, LicenseTimeline>();

  add(event: TokenEvent): void {
    let timeline = this.#licenses.get(event.license);
    if (timeline === undefined) {
      if (this.#licenses.size >= MAX_LICENSES) return;
      timeline = { license: event.license, events: [], dropped: 0 };
      this.#licenses.set(event.license, timeline);
    }
    if (timeline.events.length >= MAX_EVENTS) {
      // Keep the first token (the purchase) and slide the rest.
      timeline.events.splice(1, 1);
      timeline.dropped += 1;
    }
    timeline.events.push(event);
  }

  list(): LicenseTimeline[] {
    return [...this.#licenses.values()];
  }
}
