import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { JsonlWriter, writeWhole } from '../audit/export-writer.js';
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportedLicense,
  type ExportedOrder,
  type ExportManifest,
  FILES,
  type FileSummary,
} from '../audit/layout.js';
import { type StoreApi, storeApi } from '../audit/store-api.js';
import { EXIT, UsageError } from '../lib/errors.js';
import type { Io } from '../lib/io.js';

export interface ExportFlags {
  store?: string;
  token?: string;
  data?: string;
  out: string;
}

/** Admin lists are paged; 200 is the API's largest page. */
const ADMIN_PAGE = 200;
/** The log's largest page. */
const LOG_PAGE = 1000;

interface LogEntryJson {
  index: number;
  kind: string;
  document: string;
  documentHash: string;
  loggedAt: string;
}

/** An order without what an auditor does not need: the e-mail, the processor's reference. */
function exportedOrder(order: Record<string, unknown>): ExportedOrder {
  const amount = order.amount as { amount: number; currency: string };
  return {
    id: order.id as string,
    customerId: order.customerId as string,
    licenseId: (order.licenseId as string | null) ?? null,
    productId: order.productId as string,
    planId: order.planId as string,
    kind: order.kind as string,
    seats: order.seats as number,
    amount: amount.amount,
    currency: amount.currency,
    provider: order.provider as string,
    status: order.status as string,
    test: order.test as boolean,
    createdAt: order.createdAt as string,
    paidAt: (order.paidAt as string | null) ?? null,
    details: (order.details as Record<string, unknown> | undefined) ?? {},
  };
}

/** A license without the e-mail and the key hint. */
function exportedLicense(license: Record<string, unknown>): ExportedLicense {
  const pick = <K extends keyof ExportedLicense>(key: K) => license[key] as ExportedLicense[K];
  return {
    id: pick('id'),
    customerId: pick('customerId'),
    productId: pick('productId'),
    planId: pick('planId'),
    status: pick('status'),
    seats: pick('seats'),
    anchor: pick('anchor'),
    periodStart: pick('periodStart'),
    periodEnd: pick('periodEnd'),
    trialEnd: pick('trialEnd'),
    pendingChange: pick('pendingChange'),
    seq: pick('seq'),
    test: pick('test'),
    createdAt: pick('createdAt'),
    cancelledAt: pick('cancelledAt'),
    revokedAt: pick('revokedAt'),
  };
}

/** Every page of an admin list, newest first, streamed to a .jsonl file. */
async function exportList(
  api: StoreApi,
  path: string,
  member: string,
  file: string,
  map: (record: Record<string, unknown>) => unknown,
): Promise<FileSummary> {
  const writer = new JsonlWriter(file);
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${ADMIN_PAGE}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = (await api.json<Record<string, unknown>>(`${path}${query}`))!;
    for (const record of page[member] as Record<string, unknown>[]) await writer.write(map(record));
    cursor = (page.nextCursor as string | null) ?? null;
  } while (cursor !== null);
  return writer.close();
}

/** The size a checkpoint signs: its second line (the auditor parses it strictly). */
function checkpointSize(note: string): number {
  const size = Number(note.split('\n')[1]);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new UsageError('the store served a checkpoint without a size line');
  }
  return size;
}

/**
 * The export itself, into `dir` (which exists and is empty): a fresh checkpoint first —
 * it fixes how many entries the export holds — then everything else.
 */
async function exportTo(api: StoreApi, source: string, dir: string): Promise<ExportManifest> {
  const files: Record<string, FileSummary> = {};
  const keys = (await api.json<{ log: { origin: string } }>('/v1/keys'))!;
  files[FILES.keys] = await writeWhole(dir, FILES.keys, `${JSON.stringify(keys, null, 2)}\n`);

  // A checkpoint signed now covers every entry logged so far; an older store that cannot
  // sign on demand gives its newest one.
  const signed = await api.json<{ size: number; checkpoint: string }>('/v1/admin/log/checkpoint', {
    method: 'POST',
    optional: true,
  });
  const head = signed?.checkpoint ?? (await api.text('/v1/log/checkpoint'));
  const treeSize = checkpointSize(head);
  files[FILES.checkpoint] = await writeWhole(dir, FILES.checkpoint, head);

  // Every checkpoint up to that size; later ones belong to the next export.
  const history = new JsonlWriter(join(dir, FILES.checkpoints));
  let checkpointHistory = true;
  for (let start: number | null = 0; start !== null; ) {
    const page: { checkpoints: { size: number }[]; next: number | null } | undefined =
      await api.json(`/v1/log/checkpoints?start=${start}&limit=${LOG_PAGE}`, { optional: true });
    if (page === undefined) {
      checkpointHistory = false;
      break;
    }
    for (const checkpoint of page.checkpoints) {
      if (checkpoint.size <= treeSize) await history.write(checkpoint);
    }
    start = page.next !== null && page.next <= treeSize ? page.next : null;
  }
  files[FILES.checkpoints] = await history.close();

  const entries = new JsonlWriter(join(dir, FILES.entries));
  for (let start = 0; start < treeSize; ) {
    const limit = Math.min(LOG_PAGE, treeSize - start);
    const page = (await api.json<{ entries: LogEntryJson[] }>(
      `/v1/log/entries?start=${start}&limit=${limit}`,
    ))!;
    if (page.entries.length === 0) break; // The log is shorter than its checkpoint: the audit says so.
    for (const { index, kind, document, documentHash, loggedAt } of page.entries) {
      await entries.write({ index, kind, document, documentHash, loggedAt });
    }
    start += page.entries.length;
  }
  files[FILES.entries] = await entries.close();

  const catalogue = await api.json('/v1/admin/products');
  files[FILES.catalogue] = await writeWhole(
    dir,
    FILES.catalogue,
    `${JSON.stringify(catalogue, null, 2)}\n`,
  );
  files[FILES.licenses] = await exportList(
    api,
    '/v1/admin/licenses',
    'licenses',
    join(dir, FILES.licenses),
    exportedLicense,
  );
  files[FILES.orders] = await exportList(
    api,
    '/v1/admin/orders',
    'orders',
    join(dir, FILES.orders),
    exportedOrder,
  );

  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    source,
    exportedAt: new Date().toISOString(),
    origin: keys.log.origin,
    treeSize,
    checkpointHistory,
    files,
  };
  await writeWhole(dir, FILES.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** OUT must not exist, or be an empty directory: an export never mixes with other files. */
async function checkOut(out: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UsageError(`--out ${out} is not a directory`);
  }
  if (names.length > 0) {
    throw new UsageError(`--out ${out} is not empty; give a new directory for the export`);
  }
}

/**
 * Runs a store on a local data directory, in this process, on a loopback port, with a
 * one-time admin token: nothing but this export can use it. Billing, webhooks and jobs
 * stay off, so exporting changes nothing but adding a checkpoint.
 */
async function localStore(
  data: string,
): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const { startStore, ConfigurationError } = await import('@licensekit/store');
  const token = randomBytes(32).toString('base64url');
  try {
    const store = await startStore(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: data,
        adminToken: token,
        seedDemo: false,
        logger: false,
        licensing: { billing: { enabled: false } },
        operations: { webhooks: { enabled: false }, jobs: { intervalMs: 0 } },
        log: { checkpointIntervalMs: 0 },
      },
      false,
    );
    return { url: store.url, token, close: () => store.close() };
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'DATA_DIRECTORY_LOCKED' || code === 'DATA_DIRECTORY_DAMAGED') {
      throw new UsageError(
        `${(error as Error).message} (export a running store with --store URL instead)`,
      );
    }
    throw error;
  }
}

/**
 * `licensekit export --store URL --token ADMIN --out DIR` (or `--data DIR` for a stopped
 * store's data directory): writes a self-contained export for `licensekit audit store`.
 * The files are written into a sibling temporary directory and renamed into place at the
 * end, so an interrupted export never looks complete.
 */
export async function exportStore(flags: ExportFlags, io: Io): Promise<number> {
  const started = performance.now();
  if (flags.data !== undefined && flags.store !== undefined) {
    throw new UsageError(
      'give --store URL (a running store) or --data DIR (a stopped store’s data directory), not both',
    );
  }
  const out = resolve(flags.out);
  await checkOut(out);
  let local: Awaited<ReturnType<typeof localStore>> | undefined;
  let api: StoreApi;
  let source: string;
  if (flags.data !== undefined) {
    local = await localStore(flags.data);
    api = storeApi(local.url, local.token);
    source = `data:${resolve(flags.data)}`;
  } else {
    const url = flags.store ?? process.env.LICENSEKIT_STORE_URL ?? 'http://127.0.0.1:8787';
    const token = flags.token ?? process.env.LICENSEKIT_ADMIN_TOKEN;
    if (token === undefined) {
      throw new UsageError(
        'no admin token: pass --token (or set LICENSEKIT_ADMIN_TOKEN); the export reads the admin API',
      );
    }
    api = storeApi(url, token);
    source = api.url;
  }
  await mkdir(dirname(out), { recursive: true });
  const partial = `${out}.partial-${process.pid}`;
  await mkdir(partial, { mode: 0o755 });
  let manifest: ExportManifest;
  try {
    manifest = await exportTo(api, source, partial);
    await rmdir(out).catch(() => undefined);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  } finally {
    await local?.close();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const count = (file: string) => manifest.files[file]?.records ?? 0;
  io.err(
    `exported ${manifest.treeSize} log entries, ${count(FILES.checkpoints)} checkpoint(s), ${count(FILES.licenses)} license(s) and ${count(FILES.orders)} order(s) from ${source} to ${out} in ${seconds} s\n`,
  );
  return EXIT.ok;
}
