/**
 * A state held in memory that notes what each transaction's step touches, so the journal
 * records that and not the whole state. Steps read and write the per-license maps only
 * through `getOwn`/`setOwn` and plain property access, all of which go through the
 * proxies below; a license touched is recorded whole (a few dozen bytes) when the step
 * reports a change, whether or not that entry moved — cheaper than telling which did, and
 * a record that sets an entry to the value it has is harmless. A step that lists a map
 * (`Object.keys`, `JSON.stringify`) or replaces one could have changed anything: its
 * transaction is written as a new snapshot instead.
 */
import type { StateData } from '../../state/state.js';
import type { JournalOp } from './ops.js';
import { metaOf } from './ops.js';

interface Touches {
  keys: Set<string>;
  /** A write (define, set, delete) happened: a step that says it changed nothing lied. */
  wrote: boolean;
  /** The map was listed: which entries changed can no longer be told. */
  listed: boolean;
}

function tracking<T extends object>(target: T, touches: Touches): T {
  const note = (key: string | symbol) => {
    if (typeof key === 'string') touches.keys.add(key);
  };
  return new Proxy(target, {
    get(t, key) {
      note(key);
      return Reflect.get(t, key);
    },
    has(t, key) {
      note(key);
      return Reflect.has(t, key);
    },
    getOwnPropertyDescriptor(t, key) {
      note(key);
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
    defineProperty(t, key, descriptor) {
      note(key);
      touches.wrote = true;
      return Reflect.defineProperty(t, key, descriptor);
    },
    set(t, key, value) {
      note(key);
      touches.wrote = true;
      return Reflect.set(t, key, value);
    },
    deleteProperty(t, key) {
      note(key);
      touches.wrote = true;
      return Reflect.deleteProperty(t, key);
    },
    ownKeys(t) {
      touches.listed = true;
      return Reflect.ownKeys(t);
    },
  });
}

export class TrackedState {
  /** What steps receive: the state with its two maps behind tracking proxies. */
  readonly view: StateData;
  private licenses!: StateData['licenses'];
  private usage!: StateData['usage'];
  private licensesView!: StateData['licenses'];
  private usageView!: StateData['usage'];
  private readonly licenseTouches: Touches = { keys: new Set(), wrote: false, listed: false };
  private readonly usageTouches: Touches = { keys: new Set(), wrote: false, listed: false };
  /** The meta as last persisted, to tell whether a step changed it. */
  private metaText: string;
  /** The meta text `changes` computed, persisted once the changes are. */
  private pendingMetaText: string | undefined;

  /** Takes ownership of `state` (it becomes the view). */
  constructor(state: StateData) {
    this.view = state;
    this.wrap(state.licenses, state.usage);
    this.metaText = JSON.stringify(metaOf(state));
  }

  private wrap(licenses: StateData['licenses'], usage: StateData['usage']): void {
    this.licenses = licenses;
    this.usage = usage;
    this.licensesView = tracking(licenses, this.licenseTouches);
    this.usageView = tracking(usage, this.usageTouches);
    this.view.licenses = this.licensesView;
    this.view.usage = this.usageView;
  }

  /** Starts a transaction: forgets what earlier ones touched. */
  begin(): void {
    this.pendingMetaText = undefined;
    for (const touches of [this.licenseTouches, this.usageTouches]) {
      touches.keys.clear();
      touches.wrote = false;
      touches.listed = false;
    }
  }

  /** Whether the step wrote to a map (meaningful when it reported no change). */
  wrote(): boolean {
    return (
      this.licenseTouches.wrote ||
      this.usageTouches.wrote ||
      this.view.licenses !== this.licensesView ||
      this.view.usage !== this.usageView
    );
  }

  /**
   * The changes of a step that reported one, or 'snapshot' when they cannot be told (a
   * map replaced or listed). Re-wraps a replaced map so the next step is tracked again.
   */
  changes(): JournalOp[] | 'snapshot' {
    const replaced = this.view.licenses !== this.licensesView || this.view.usage !== this.usageView;
    if (replaced) {
      const licenses =
        this.view.licenses === this.licensesView ? this.licenses : this.view.licenses;
      const usage = this.view.usage === this.usageView ? this.usage : this.view.usage;
      this.wrap(licenses, usage);
    }
    if (replaced || this.licenseTouches.listed || this.usageTouches.listed) return 'snapshot';
    const ops: JournalOp[] = [];
    for (const key of this.licenseTouches.keys)
      ops.push(['L', key, Object.hasOwn(this.licenses, key) ? this.licenses[key]! : null]);
    for (const key of this.usageTouches.keys)
      ops.push(['U', key, Object.hasOwn(this.usage, key) ? this.usage[key]! : null]);
    const meta = metaOf(this.view);
    const text = JSON.stringify(meta);
    if (text !== this.metaText) ops.push(['M', meta]);
    this.pendingMetaText = text;
    return ops;
  }

  /** The changes are on disk: the meta as it is now is the persisted one. */
  committed(): void {
    this.metaText = this.pendingMetaText ?? JSON.stringify(metaOf(this.view));
    this.pendingMetaText = undefined;
  }

  /** Records from another process were applied: their meta is the persisted one. */
  resync(): void {
    this.metaText = JSON.stringify(metaOf(this.view));
  }

  /** The state as a plain object (no proxies), for a snapshot or a merge. */
  plain(): StateData {
    return { ...metaOf(this.view), licenses: this.licenses, usage: this.usage } as StateData;
  }
}
