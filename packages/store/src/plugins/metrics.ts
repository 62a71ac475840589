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
