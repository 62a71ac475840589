/**
 * A figure is one comparison with its goal. Every bench group returns a list of them:
 *
 * @typedef {object} Figure
 * @property {string} group     the `pnpm bench <group>` that produces it
 * @property {number} issue     the issue that set the goal
 * @property {string} name
 * @property {{ what: string, value: number }} ours
 * @property {{ what: string, value: number }} baseline
 * @property {'ops/s' | 'ms' | 'characters' | 'bytes' | 'req/s'} unit
 * @property {{ median: number, low?: number, high?: number }} ratio  ours / baseline; low
 *   and high are the quartiles of the per-round ratios
 * @property {{ op: '>=' | '<=', value: number, of?: 'ratio' | 'rate' }} [goal]  on the
 *   ratio unless `of` is 'rate' (then on ours.value); no goal = shown for context
 * @property {string} [why]      one line: why the figure misses its goal (shown when missed)
 * @property {string} [profile]  one line: what a CPU profile shows dominates (when missed)
 * @property {string} command
 */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatValue(value, unit) {
  if (unit === 'ms') return `${value.toFixed(1)} ms`;
  if (unit === 'ops/s' || unit === 'req/s') return `${integer.format(value)}/s`;
  return `${integer.format(value)} ${unit === 'bytes' ? 'B' : 'chars'}`;
}

export function formatRatio({ median, low, high }) {
  const digits = median >= 10 ? 1 : 2;
  const spread = low === undefined ? '' : ` (${low.toFixed(digits)}–${high.toFixed(digits)})`;
  return `${median.toFixed(digits)}×${spread}`;
}

export function formatGoal(figure) {
  const { goal } = figure;
  if (!goal) return '—';
  const op = goal.op === '>=' ? '≥' : '≤';
  return goal.of === 'rate'
    ? `${op} ${formatValue(goal.value, figure.unit)}`
    : `${op} ${goal.value}×`;
}

/**
 * Whether the goal is met, and when not, by how much: the shortfall (≥ goals) or the
 * excess (≤ goals) as a share of the goal.
 * @returns {{ met: boolean | undefined, by?: string }}
 */
export function judge(figure) {
  const { goal } = figure;
  if (!goal) return { met: undefined };
  const value = goal.of === 'rate' ? figure.ours.value : figure.ratio.median;
  const met = goal.op === '>=' ? value >= goal.value : value <= goal.value;
  if (met) return { met };
  const gap =
    goal.op === '>=' ? (goal.value - value) / goal.value : (value - goal.value) / goal.value;
  const shown =
    goal.of === 'rate' ? formatValue(value, figure.unit) : `${value.toFixed(value >= 10 ? 1 : 2)}×`;
  return { met, by: `${(gap * 100).toFixed(0)}% (${shown} against ${formatGoal(figure)})` };
}
