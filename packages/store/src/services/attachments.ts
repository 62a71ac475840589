import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { QuotaSpec } from '@licensekit/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db, Queryable } from '../db/client.js';
import { StoreError } from '../errors.js';
import { newId } from '../lib/ids.js';
import type { LicenseRecord } from '../repositories/licenses.js';
import { lockCurrentLicense } from './billing.js';
import type { StoreContext } from './context.js';
import { assertUsable } from './licensing.js';
import { currentWindow, planTerms, quotaEvents } from './usage.js';

/**
 * Product files, downloaded with a license and metered by a quota.
 *
 * Metering rule: the first request for a file — a full GET or a range request — spends
 * one unit of the attachment's quota (e.g. `downloads`) and opens a download grant for
 * that license and file (default 24 h). Within the grant every further request for the
 * same file is free: resuming, parallel range requests of a download manager, a second
 * try after a broken connection. The unit is spent when the download starts, atomically
 * with the check against the limit, so parallel requests can never overspend; a HEAD
 * request and a refused or unsatisfiable range spend nothing. With no units left the
 * answer is 403 QUOTA_EXHAUSTED. An attachment without a quota is free for any license
 * in good standing. A quota the plan does not have is never read as unlimited.
 *
 * Files live under dataDir/files and are streamed from disk (never read whole into
 * memory), with single byte ranges (RFC 9110 §14).
 */

export interface Attachment {
  id: string;
  productId: string;
  name: string;
  /** Relative to dataDir/files. */
  path: string;
  size: number;
  contentType: string;
  quota: string | null;
  createdAt: Date;
}

interface AttachmentRow {
  id: string;
  product_id: string;
  name: string;
  path: string;
  size: number;
  content_type: string;
  quota: string | null;
  created_at: Date;
}

function toAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    path: row.path,
    size: Number(row.size),
    contentType: row.content_type,
    quota: row.quota,
    createdAt: row.created_at,
  };
}

const COLUMNS = 'id, product_id, name, path, size, content_type, quota, created_at';

export function filesDir(dataDir: string): string {
  return join(dataDir, 'files');
}

export async function getAttachment(db: Queryable, id: string): Promise<Attachment | undefined> {
  const [row] = await db.query<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE id = $1`, [
    id,
  ]);
  return row ? toAttachment(row) : undefined;
}

export async function listAttachments(db: Queryable, productId?: string): Promise<Attachment[]> {
  const rows = await db.query<AttachmentRow>(
    `SELECT ${COLUMNS} FROM attachments WHERE ($1::text IS NULL OR product_id = $1)
      ORDER BY product_id, created_at, id`,
    [productId ?? null],
  );
  return rows.map(toAttachment);
}

export async function deleteAttachment(db: Db, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM attachments WHERE id = $1 RETURNING id', [id]);
  return rows.length > 0;
}

// ---------------------------------------------------------------- registering files

export interface AttachmentInput {
  productId: string;
  /** The file name customers see and save as. */
  name: string;
  contentType?: string | undefined;
  /** The quota a download spends; null or absent = free for any valid license. */
  quota?: string | null | undefined;
}

async function requireProduct(db: Queryable, productId: string): Promise<void> {
  const found = await db.query('SELECT id FROM products WHERE id = $1', [productId]);
  if (found.length === 0) throw new StoreError('PRODUCT_NOT_FOUND');
}

async function insertAttachment(
  db: Queryable,
  id: string,
  input: AttachmentInput,
  path: string,
  size: number,
  now: Date,
): Promise<Attachment> {
  const [row] = await db.query<AttachmentRow>(
    `INSERT INTO attachments (id, product_id, name, path, size, content_type, quota, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [
      id,
      input.productId,
      input.name,
      path,
      size,
      input.contentType ?? 'application/octet-stream',
      input.quota ?? null,
      now,
    ],
  );
  return toAttachment(row!);
}

/**
 * Registers a file already inside dataDir/files (copied there by the operator). The path
 * may not leave that directory, also not through a symbolic link.
 */
export async function registerFile(
  context: Pick<StoreContext, 'db' | 'config' | 'clock'>,
  input: AttachmentInput & { path: string },
): Promise<Attachment> {
  await requireProduct(context.db, input.productId);
  const root = await realpath(await ensureFilesDir(context.config.dataDir));
  const candidate = resolve(root, input.path);
  const notFound = new StoreError('NOT_FOUND', 'No such file inside the files directory.');
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw notFound;
  }
  const inside = relative(root, real);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) throw notFound;
  const info = await stat(real);
  if (!info.isFile()) throw notFound;
  return insertAttachment(
    context.db,
    newId('att'),
    input,
    inside.split(sep).join('/'),
    info.size,
    context.clock.now(),
  );
}

async function ensureFilesDir(dataDir: string): Promise<string> {
  const dir = filesDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'file';
}

/**
 * Stores an uploaded body as a new attachment: streamed to a temporary file, counted on
 * the way (more than maxBytes aborts with 413 and leaves nothing behind), then renamed
 * into place.
 */
export async function uploadFile(
  context: Pick<StoreContext, 'db' | 'config' | 'clock'>,
  body: Readable,
  input: AttachmentInput,
): Promise<Attachment> {
  const { maxUploadBytes } = context.config.operations.attachments;
  await requireProduct(context.db, input.productId);
  const root = await ensureFilesDir(context.config.dataDir);
  const id = newId('att');
  const relativePath = `${input.productId}/${id}-${safeFileName(input.name)}`;
  const temporary = join(root, `.upload-${id}`);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxUploadBytes) callback(new StoreError('PAYLOAD_TOO_LARGE'));
      else callback(null, chunk);
    },
  });
  const handle = await open(temporary, 'wx', 0o600);
  const out = handle.createWriteStream();
  try {
    // pipe(), not pipeline(): past the limit the request stream is only detached, not
    // destroyed, so the client still gets the 413 answer (the route closes the connection).
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => {
        body.unpipe(counter);
        counter.unpipe(out);
        out.destroy();
        reject(error);
      };
      body.on('error', fail);
      counter.on('error', fail);
      out.on('error', fail);
      out.on('finish', resolve);
      body.pipe(counter).pipe(out);
    });
    await mkdir(join(root, input.productId), { recursive: true, mode: 0o700 });
    await rename(temporary, join(root, relativePath));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
  return insertAttachment(context.db, id, input, relativePath, size, context.clock.now());
}

const DEMO_PRESETS = {
  name: 'Photon demo presets',
  version: 1,
  presets: [
    { id: 'golden-hour', exposure: 0.3, temperature: 6500, tint: 8, saturation: 1.15 },
    { id: 'film-noir', exposure: -0.2, contrast: 1.4, saturation: 0 },
    { id: 'nordic-light', exposure: 0.1, temperature: 5200, highlights: -0.3, shadows: 0.2 },
  ],
};

/** On first start: a small preset file for the demo `photon-presets` product, metered by `downloads`. */
export async function seedDemoAttachment(
  context: Pick<StoreContext, 'db' | 'config' | 'clock'>,
): Promise<boolean> {
  const productId = 'photon-presets';
  const product = await context.db.query('SELECT id FROM products WHERE id = $1', [productId]);
  if (product.length === 0 || (await listAttachments(context.db, productId)).length > 0)
    return false;
  const root = await ensureFilesDir(context.config.dataDir);
  await mkdir(join(root, productId), { recursive: true, mode: 0o700 });
  const path = `${productId}/demo-presets.json`;
  await writeFile(join(root, path), `${JSON.stringify(DEMO_PRESETS, null, 2)}\n`, { mode: 0o600 });
  await registerFile(context, {
    productId,
    name: 'demo-presets.json',
    path,
    contentType: 'application/json',
    quota: 'downloads',
  });
  return true;
}

// ---------------------------------------------------------------- ranges

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Parses a Range header against a representation of `size` bytes (RFC 9110 §14.1.2).
 * Returns undefined when there is none. One range only: anything else — multiple ranges,
 * a last-pos before the first-pos (`bytes=5-1`), an empty suffix (`bytes=-0`), a start
 * beyond the end, another unit, or junk — is refused with 416 rather than silently
 * answered with the whole file, so a client never misreads what it got.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const unsatisfiable = (why: string) => new StoreError('RANGE_NOT_SATISFIABLE', why);
  // Split, then trim: a regex with optional blanks around optional digits backtracks
  // quadratically on a header of thousands of spaces (16 KiB of them cost ~80 ms).
  const notSingle = () => unsatisfiable('The Range header is not a single byte range.');
  const equals = header.indexOf('=');
  if (equals < 0 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') throw notSingle();
  const spec = header.slice(equals + 1);
  if (spec.includes(',')) throw unsatisfiable('Only a single byte range is supported.');
  const dash = spec.indexOf('-');
  if (dash < 0) throw notSingle();
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();
  if (!/^\d{0,20}$/.test(first) || !/^\d{0,20}$/.test(last)) throw notSingle();
  if (first === '' && last === '') throw unsatisfiable('The byte range is empty.');
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw unsatisfiable('The suffix range selects no bytes.');
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start)
    throw unsatisfiable('The last byte of the range is before its first.');
  if (start >= size) throw unsatisfiable('The range starts beyond the end of the file.');
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

// ---------------------------------------------------------------- downloads

/**
 * Checks that the license may download now and spends one unit of the attachment's quota
 * unless a grant covers this download (see the metering rule above). One transaction:
 * the license row is locked and brought up to date by the licensing part's billing step
 * (a period that just ended renews or lapses first), then checked like a refresh would be
 * (403 revoked, 402 unpaid), so concurrent downloads of one license count one by one.
 */
export async function authorizeDownload(
  context: StoreContext,
  licenseId: string,
  attachment: Attachment,
  options: { charge: boolean; now: Date },
): Promise<{ charged: boolean; remaining: number | null }> {
  const { now } = options;
  const grantMs = context.config.operations.attachments.downloadGrantMs;
  return context.db.transaction(async (tx) => {
    const license = await lockCurrentLicense(tx, context, licenseId, now);
    assertUsable(context.config, license);
    const quota = attachment.quota;
    if (quota === null || !options.charge) return { charged: false, remaining: null };
    const { quotas } = await planTerms(tx, license);
    const spec: QuotaSpec | undefined = Object.hasOwn(quotas, quota) ? quotas[quota] : undefined;
    if (spec === undefined) {
      throw new StoreError(
        'QUOTA_EXHAUSTED',
        `Your plan includes no ${JSON.stringify(quota)} quota for this file.`,
      );
    }
    const window = currentWindow(spec, license, now);
    const [used] = await tx.query<{ used: number | string }>(
      `SELECT coalesce(sum(used), 0)::bigint AS used FROM usage
        WHERE license_id = $1 AND quota = $2 AND window_start >= $3
          AND ($4::timestamptz IS NULL OR window_start < $4)`,
      [
        license.id,
        quota,
        new Date(window.start * 1000),
        window.end === undefined ? null : new Date(window.end * 1000),
      ],
    );
    const usedNow = Number(used?.used ?? 0);
    const remaining = 'limit' in spec ? Math.max(0, spec.limit - usedNow) : null;
    const grant = await tx.query(
      `SELECT 1 FROM attachment_grants
        WHERE license_id = $1 AND attachment_id = $2 AND expires_at > $3`,
      [license.id, attachment.id, now],
    );
    if (grant.length > 0) return { charged: false, remaining };
    if (remaining !== null && remaining < 1) {
      const resets =
        window.end === undefined ? '' : ` until ${new Date(window.end * 1000).toISOString()}`;
      throw new StoreError('QUOTA_EXHAUSTED', `No ${JSON.stringify(quota)} left${resets}.`);
    }
    await tx.query(
      `INSERT INTO usage (license_id, quota, window_start, device, used, updated_at)
       VALUES ($1, $2, $3, '', 1, $4)
       ON CONFLICT (license_id, quota, window_start, device)
       DO UPDATE SET used = usage.used + 1, updated_at = EXCLUDED.updated_at`,
      [license.id, quota, new Date(window.start * 1000), now],
    );
    await tx.query(
      `INSERT INTO attachment_grants (license_id, attachment_id, expires_at, created_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (license_id, attachment_id)
       DO UPDATE SET expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at`,
      [license.id, attachment.id, new Date(now.getTime() + grantMs), now],
    );
    await quotaEvents(tx, license, quotas, [quota], now);
    return { charged: true, remaining: remaining === null ? null : remaining - 1 };
  });
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Answers a download request for `attachmentId` on behalf of `license`: checks the
 * license and product, honours Range and If-Range, spends the quota per the metering
 * rule, and streams the bytes from disk. Shared by the API (license key) and the
 * customer portal (session): call it from a route and return its result.
 */
export async function streamAttachment(
  context: StoreContext,
  request: Pick<FastifyRequest, 'method' | 'headers'>,
  reply: FastifyReply,
  target: { license: LicenseRecord; attachmentId: string; onCharged?: () => void },
): Promise<FastifyReply> {
  const { db, config, clock } = context;
  const { license } = target;
  const now = clock.now();
  const attachment = await getAttachment(db, target.attachmentId);
  // Another product's file is reported as missing: no hint that it exists.
  if (!attachment || attachment.productId !== license.productId)
    throw new StoreError('ATTACHMENT_NOT_FOUND');

  let handle: FileHandle;
  try {
    handle = await open(join(filesDir(config.dataDir), attachment.path), 'r');
  } catch (error) {
    context.log.warn({ attachment: attachment.id, err: error }, 'attachment file missing');
    throw new StoreError('ATTACHMENT_NOT_FOUND', 'The file of this attachment is missing.');
  }
  try {
    const info = await handle.stat();
    const size = info.size;
    const etag = `"${attachment.id}-${size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
    const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000).toUTCString();
    reply.header('accept-ranges', 'bytes');
    reply.header('etag', etag);
    reply.header('last-modified', lastModified);
    const rangeHeader = request.headers.range;
    const ifRange = request.headers['if-range'];
    // If-Range (RFC 9110 §13.1.5): a range of a representation that has changed is not
    // served; the whole current file is. A weak validator never matches.
    const rangeApplies =
      rangeHeader !== undefined &&
      (ifRange === undefined || ifRange === etag || ifRange === lastModified);
    let range: ByteRange | undefined;
    try {
      range = rangeApplies ? parseRange(rangeHeader, size) : undefined;
    } catch (error) {
      reply.header('content-range', `bytes */${size}`);
      throw error;
    }
    const spent = await authorizeDownload(context, license.id, attachment, {
      charge: request.method !== 'HEAD',
      now,
    });
    if (spent.charged) target.onCharged?.();
    if (spent.remaining !== null)
      reply.header('licensekit-quota-remaining', String(spent.remaining));
    reply.header('content-type', attachment.contentType);
    reply.header('content-disposition', contentDisposition(attachment.name));
    if (range) {
      reply.status(206);
      reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
    } else {
      reply.status(200);
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    reply.header('content-length', String(size === 0 ? 0 : end - start + 1));
    if (request.method === 'HEAD' || size === 0) {
      await handle.close();
      // An empty stream, not an empty body: Fastify keeps the Content-Length set above
      // for a HEAD answer only when the payload is a stream.
      return reply.send(Readable.from([]));
    }
    // The stream owns the descriptor from here and closes it when done or aborted.
    return reply.send(handle.createReadStream({ start, end }));
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}
