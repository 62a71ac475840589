import type { IntervalHistogram } from 'node:perf_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, MetricsRegistry } from '../services/metrics.js';
import { pendingMessages } from '../services/webhooks.js';

export interface StoreMetrics {
  registry: MetricsRegistry;
  httpRequests: Counter;
  httpDuration: Histogram;
  tokensIssued: Counter;
  webhookDeliveries: Counter;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: StoreMetrics;
  }
}

/**
 * Routes whose successful answer carries a newly signed token. Counted here, by route,
 * because a response hook sees every issuing route without the licensing services
 * having to know about metrics.
 */
export const TOKEN_ROUTES: ReadonlySet<string> = new Set([
  '/v1/licenses/activate',
  '/v1/licenses/refresh',
]);

/** Event-loop delay of one window, in seconds. */
export interface EventLoopDelaySummary {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Event-loop delay in fixed windows: perf_hooks samples the loop with a timer every
 * `resolutionMs`, and every `windowMs` the window's percentiles are kept and the histogram
 * reset. A scrape reads the last complete window (before the first one ends, the window so
 * far), so the gauge shows the recent delay rather than the max since start, and any
 * number of scrapers read the same value (none resets it).
 *
 * The histogram records the time between timer firings, which includes the interval
 * itself; the interval is subtracted, so an idle loop reads about 0 and a 50 ms stall
 * about 0.05.
 */
export function eventLoopDelayWindows(options: { windowMs?: number; resolutionMs?: number } = {}): {
  read(): EventLoopDelaySummary;
  close(): void;
} {
  const { windowMs = 5_000, resolutionMs = 10 } = options;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const summarise = (h: IntervalHistogram): EventLoopDelaySummary => {
    // Before the timer's first firing the histogram is empty (its min is a huge sentinel).
    if (h.count === 0) return { p50: 0, p99: 0, max: 0 };
    // In whole nanoseconds until the last step, so the exposition shows no float noise.
    const seconds = (ns: number) => Math.max(0, ns - resolutionMs * 1e6) / 1e9;
    return { p50: seconds(h.percentile(50)), p99: seconds(h.percentile(99)), max: seconds(h.max) };
  };
  let last: EventLoopDelaySummary | undefined;
  const timer = setInterval(() => {
    last = summarise(histogram);
    histogram.reset();
  }, windowMs);
  // Never keeps a process alive that would otherwise exit.
  timer.unref();
  return {
    read: () => last ?? summarise(histogram),
    close() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

/**
 * Prometheus metrics of this instance (per-process series: sum them across instances),
 * plus webhook_outbox_pending, read from the database at scrape time (the same value on
 * every instance: use max, not sum).
 */
async function metrics(fastify: FastifyInstance) {
  const registry = new MetricsRegistry();
  const startedAt = Date.now();
  const storeMetrics: StoreMetrics = {
    registry,
    httpRequests: registry.register(
      new Counter('http_requests_total', 'HTTP requests answered.', ['method', 'route', 'status']),
    ),
    httpDuration: registry.register(
      new Histogram('http_request_duration_seconds', 'Time to answer an HTTP request.', [
        'method',
        'route',
      ]),
    ),
    tokensIssued: registry.register(
      new Counter('licensekit_tokens_issued_total', 'License tokens signed and returned.', [
        'route',
      ]),
    ),
    webhookDeliveries: registry.register(
      new Counter(
        'licensekit_webhook_deliveries_total',
        'Webhook delivery attempts by result (delivered, retry, failed, lost_claim, aborted).',
        ['result'],
      ),
    ),
  };
  registry.register(
    new Gauge('webhook_outbox_pending', 'Webhook messages not yet delivered or given up.', () =>
      pendingMessages(fastify.db),
    ),
  );
  registry.register(
    new Gauge(
      'process_resident_memory_bytes',
      'Resident memory size in bytes.',
      () => process.memoryUsage().rss,
    ),
  );
  registry.register(
    new Gauge(
      'nodejs_heap_used_bytes',
      'V8 heap in use, bytes.',
      () => process.memoryUsage().heapUsed,
    ),
  );
  registry.register(
    new Gauge(
      'process_start_time_seconds',
      'Start time of the process, seconds since the epoch.',
      () => Math.floor(startedAt / 1000),
    ),
  );
  registry.register(
    new Gauge('process_uptime_seconds', 'Seconds since the process started.', () =>
      Math.round(process.uptime()),
    ),
  );
  const eventLoop = eventLoopDelayWindows();
  fastify.addHook('onClose', async () => eventLoop.close());
  const eventLoopGauge = (quantile: keyof EventLoopDelaySummary, help: string) =>
    registry.register(
      new Gauge(
        `nodejs_eventloop_delay_${quantile}_seconds`,
        `Event-loop delay beyond the 10 ms sampling interval, ${help} over the last complete 5 s window.`,
        () => eventLoop.read()[quantile],
      ),
    );
  eventLoopGauge('p50', 'median');
  eventLoopGauge('p99', '99th percentile');
  eventLoopGauge('max', 'maximum');
  fastify.decorate('metrics', storeMetrics);

  fastify.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: bounded label values.
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    const status = reply.statusCode;
    storeMetrics.httpRequests.inc({ method, route, status: String(status) });
    storeMetrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    if ((status === 200 || status === 201) && TOKEN_ROUTES.has(route)) {
      storeMetrics.tokensIssued.inc({ route });
    }
  });
}

export default fp(metrics, { name: 'metrics', dependencies: ['database'] });
