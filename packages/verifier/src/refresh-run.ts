import type { DeviceKey } from './device/device-key.js';
import type { Engine } from './engine.js';
import type { Backoff, RefreshOptions, RefreshOutcome } from './refresh.js';
// Loaded with import(): only types and refresh.ts (free of runtime imports); the rest comes
// through engine.kit, so a one-file bundle wraps nothing of the main graph (lazy-kit.ts).
import { endpoint, isDue, REFRESH_PATH } from './refresh.js';
import type { LogProof } from './types.js';

/**
 * refreshIfDue, loaded on first use (a chunk of its own in browser bundles): asks the
 * store for the next token of this license's lineage and accepts it only if it verifies,
 * is valid, has the same `sub`, a higher `seq` and — when it is the direct successor —
 * `prev` equal to the hash of the current token. Checking the new token records it, so
 * from then on the old one is rolled back. With `requireLogProof`, the new token must come
 * with a valid log proof (in the answer as `logProof`, or from the store's proof endpoint).
 */
export async function refreshIfDue(
  engine: Engine,
  backoff: Backoff,
  token: string | Uint8Array,
  options: RefreshOptions,
): Promise<RefreshOutcome> {
  const { result, accepted } = await engine.check(token, { logProof: options.logProof });
  const nowMs = result.checkedAt.getTime();
  if (!options.force && !isDue(result, nowMs)) return { kind: 'not_due', result };
  if (accepted === undefined) {
    return {
      kind: 'failed',
      error: `the current token cannot be refreshed (${result.status})`,
      retryAt: result.checkedAt,
      result,
    };
  }
  const blocked = backoff.blockedUntil(nowMs);
  if (blocked !== undefined) return { kind: 'backing_off', retryAt: new Date(blocked), result };
  const failed = (error: string): RefreshOutcome => ({
    kind: 'failed',
    error,
    retryAt: new Date(backoff.fail(nowMs)),
    result,
  });

  const url = endpoint(options.storeUrl, REFRESH_PATH);
  const body = JSON.stringify({
    token: typeof token === 'string' ? token : engine.kit.base64urlEncode(token),
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
  };
  const device = engine.device;
  if (accepted.claims.cnf !== undefined && device && 'sign' in device) {
    headers.dpop = await engine.kit.deviceProof(device as DeviceKey, {
      method: 'POST',
      url,
      body,
      iat: Math.floor(nowMs / 1000),
    });
  }
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    return failed(
      `the store could not be reached (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const reply = (await response.json().catch(() => undefined)) as
    | Record<string, unknown>
    | undefined;
  if (response.status === 402 || response.status === 403 || response.status === 404) {
    backoff.fail(nowMs);
    const error = reply?.error as { message?: unknown } | undefined;
    const refused: RefreshOutcome = {
      kind: 'refused',
      httpStatus: response.status,
      message:
        typeof error?.message === 'string'
          ? error.message
          : `the store answered ${response.status}`,
      result,
    };
    if (typeof reply?.checkoutUrl === 'string') refused.checkoutUrl = reply.checkoutUrl;
    return refused;
  }
  if (response.status !== 200 || typeof reply?.token !== 'string')
    return failed(`the store answered ${response.status}`);
  let logProof: unknown;
  if (engine.logProofs !== undefined) {
    const fetched = await engine.logProofs.fetch(
      engine.decode,
      reply.token,
      reply.logProof,
      options,
    );
    if (fetched.error !== undefined) return failed(fetched.error);
    logProof = fetched.proof;
  }
  // Examine the new token without recording it; only a token that extends the lineage is
  // then checked again for real, which moves the marks (the old token is rolled back).
  const next = await engine.check(reply.token, { record: false, logProof });
  if (next.result.status === 'not_logged') {
    return failed(`the store sent a token without a valid log proof (${next.result.reason})`);
  }
  const claims = next.accepted?.claims;
  const extendsLineage =
    claims !== undefined &&
    claims.sub === accepted.claims.sub &&
    claims.seq > accepted.claims.seq &&
    (claims.seq !== accepted.claims.seq + 1 || claims.prev === (await engine.kit.hashOf(accepted)));
  if (!extendsLineage || !next.result.valid) {
    return failed(
      `the store sent a token that does not extend this license (${next.result.status})`,
    );
  }
  const recorded = await engine.check(reply.token, { logProof });
  if (!recorded.result.valid)
    return failed(`the new token was not accepted (${recorded.result.status})`);
  backoff.succeed();
  const refreshed: RefreshOutcome = {
    kind: 'refreshed',
    token: reply.token,
    result: recorded.result,
  };
  if (logProof !== undefined) refreshed.logProof = logProof as LogProof;
  return refreshed;
}
