import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  /** The route pattern, e.g. `/v1/admin/orders/:orderId/mark-paid`. */
  pattern: string;
}

/**
 * Every route of a built store, read from Fastify's own route tree (`printRoutes`), so
 * that routes hidden from the OpenAPI document (pages, benchmark routes) are included.
 */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const pattern = stack.join('') + match[2]!;
    stack.push(match[2]!);
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim())) {
      if (method) routes.push({ method, pattern });
    }
  }
  return routes;
}

/** A URL for a route pattern, with every parameter filled in with `value`. */
export function sampleUrl(pattern: string, value = 'x'): string {
  return pattern.replace(/:[A-Za-z]+/g, value);
}
