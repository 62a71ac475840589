/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Hand-written because
 * the store needs a dozen series, not a client library.
 */

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function renderValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function keyOf(names: readonly string[], labels: Labels): string {
  return names.map((name) => labels[name] ?? '').join('\u0000');
}

interface Metric {
  render(): string;
}

abstract class Series<T> implements Metric {
  protected readonly series = new Map<string, { labels: Labels; value: T }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    readonly labelNames: readonly string[],
  ) {}

  protected entry(labels: Labels, initial: () => T): { labels: Labels; value: T } {
    const key = keyOf(this.labelNames, labels);
    let entry = this.series.get(key);
    if (!entry) {
      const own: Labels = {};
      for (const name of this.labelNames) own[name] = labels[name] ?? '';
      entry = { labels: own, value: initial() };
      this.series.set(key, entry);
    }
    return entry;
  }

  protected header(): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract render(): string;
}

export class Counter extends Series<number> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, 'counter', labelNames);
  }
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value += by;
  }
  render(): string {
    let out = this.header();
    for (const { labels, value } of this.series.values())
      out += `${this.name}${renderLabels(labels)} ${renderValue(value)}\n`;
    return out;
  }
}

/** A gauge whose value is read when scraped (`collect`), or set directly. */
export class Gauge extends Series<number> {
  constructor(
    name: string,
    help: string,
    private readonly collect?: () => number | Promise<number>,
  ) {
    super(name, help, 'gauge', []);
  }
  set(value: number): void {
    this.entry({}, () => 0).value = value;
  }
  async refresh(): Promise<void> {
    if (this.collect) this.set(await this.collect());
  }
  render(): string {
    let out = this.header();
    for (const { labels, value } of this.series.values())
      out += `${this.name}${renderLabels(labels)} ${renderValue(value)}\n`;
    return out;
  }
}

export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram extends Series<{ counts: number[]; sum: number; count: number }> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {
    super(name, help, 'histogram', labelNames);
  }
  observe(labels: Labels, value: number): void {
    const { value: data } = this.entry(labels, () => ({
      counts: this.buckets.map(() => 0),
      sum: 0,
      count: 0,
    }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) data.counts[i]!++;
    data.sum += value;
    data.count++;
  }
  render(): string {
    let out = this.header();
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((bound, i) => {
        out += `${this.name}_bucket${renderLabels(labels, ['le', renderValue(bound)])} ${value.counts[i]}\n`;
      });
      out += `${this.name}_bucket${renderLabels(labels, ['le', '+Inf'])} ${value.count}\n`;
      out += `${this.name}_sum${renderLabels(labels)} ${renderValue(value.sum)}\n`;
      out += `${this.name}_count${renderLabels(labels)} ${value.count}\n`;
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** The exposition text; gauges with a collector are read first. */
  async render(): Promise<string> {
    await Promise.all(
      this.metrics.map((metric) =>
        metric instanceof Gauge ? metric.refresh().catch(() => undefined) : undefined,
      ),
    );
    return this.metrics.map((metric) => metric.render()).join('');
  }
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
