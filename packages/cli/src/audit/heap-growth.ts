/**
 * How far the audit lets the heap grow past what it holds live before a major GC.
 *
 * The main thread holds the store's records and a state per license (85 to 110 MB at
 * 200,000 licenses and 425,000 orders) and turns every entry's facts into garbage. V8 sets
 * each next old-generation limit at a factor of the live size chosen from how fast the
 * thread allocated against how fast its collector ran, up to 4 where the heap may reach
 * 4 GB. Measured (--trace-gc, 1,000,000 tokens): it grew 4.3 to 4.6 times between the
 * major GCs of the records' load, and after the load no major GC came for ~100 s, until
 * V8's memory reducer, the old generation at 155 to 160 MB by then. How far it gets
 * depends on how fast the main thread allocates, i.e. on how fast the workers deliver
 * facts, and on when the reducer's timer acts: the workers' synchronous verify measured 318 and 382 MiB of peak RSS at 1,000,000
 * tokens. A fixed factor (V8's --heap-growing-percent, which V8 reads each time it sets
 * a limit) holds the old generation to its live size plus a fixed share, however fast
 * and whatever the load. The price is major GCs: at 10 %, 86 instead of 8 to 13 in a
 * 1,000,000-token audit, ~10 s of the main thread's time instead of ~1 s, for an old
 * generation that peaked at 134 MB.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow by this share of its live size between major GCs. */
export const AUDIT_HEAP_GROWTH_PERCENT = 10;

let holders = 0;

/** Whether the operator set the flag (node --heap-growing-percent, NODE_OPTIONS): theirs wins. */
function operatorSet(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) =>
    /heap[-_]growing[-_]percent/.test(arg),
  );
}

/**
 * Fixes V8's heap growing factor (process-wide: every thread's heap) until the returned
 * function is called; audits running at once share it, and the last one out restores V8's
 * own sizing.
 */
export function boundHeapGrowth(percent: number = AUDIT_HEAP_GROWTH_PERCENT): () => void {
  if (operatorSet()) return () => undefined;
  if (holders === 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
  holders += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders -= 1;
    // 0 is V8's default: the dynamic factor.
    if (holders === 0) setFlagsFromString('--heap-growing-percent=0');
  };
}
