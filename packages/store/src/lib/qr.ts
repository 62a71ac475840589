import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { qrParts } from '@licensekit/core/offline';
import jpeg from 'jpeg-js';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';

/**
 * QR codes for offline activation: drawing a response (or any offline text) as SVG codes,
 * and reading the codes in a photo or screenshot of a request. Pure JavaScript (qrcode,
 * jsqr, pngjs, jpeg-js): no native build, no browser. Core cuts a long text into numbered
 * parts (`qrParts`) and joins them; this module only draws and reads single codes.
 */

// jsqr is CommonJS with `export default` typings: Node hands over module.exports, which
// is the function itself and also carries it as `default`.
const jsQR: typeof jsQRModule.default =
  (jsQRModule as unknown as { default?: typeof jsQRModule.default }).default ??
  (jsQRModule as unknown as typeof jsQRModule.default);

/**
 * One SVG per QR code of `text` (one code when it fits, else its numbered parts), at error
 * correction level M — the level core's part size is computed for (2331 bytes in a
 * version 40 code). No width or height: the code fills the width it is given, so it is as
 * large as the screen allows (dense codes need it to be read by a camera) and never wider.
 */
export async function qrSvgs(text: string, label = 'QR code'): Promise<string[]> {
  const parts = qrParts(text);
  return Promise.all(
    parts.map((part, index) =>
      qrSvg(part, parts.length === 1 ? label : `${label}, part ${index + 1} of ${parts.length}`),
    ),
  );
}

async function qrSvg(content: string, label: string): Promise<string> {
  const svg = await QRCode.toString(content, {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: 4,
    color: { dark: '#000000ff', light: '#ffffffff' },
  });
  // An image to assistive technology, named: the encoder's root tag has no role or label.
  // The label is the caller's text, escaped for an attribute.
  return svg.trim().replace(/^<svg /, `<svg role="img" aria-label="${escapeAttribute(label)}" `);
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

// ------------------------------------------------------------ reading codes in images

/** Why an image gave no code, in words for the person who uploaded it. */
export class QrImageError extends Error {
  override readonly name = 'QrImageError';
}

/**
 * {@link readQrCodes} on a worker thread: decoding a phone photo in pure JavaScript takes
 * seconds (a 12-megapixel JPEG about 3 s in jpeg-js, then the scans), which must not stall
 * every other request of the store. One reader thread, started on first use and ended
 * after a minute without work; images queue on it one at a time. The thread loads the
 * built module this code is in (dist/): run from the TypeScript sources (tests), there is
 * no such file, and the image is read on this thread instead.
 */
export function readQrCodesAside(bytes: Uint8Array): Promise<string[]> {
  const script = new URL(import.meta.url);
  if (!script.pathname.endsWith('.js')) return Promise.resolve().then(() => readQrCodes(bytes));
  return qrReader(script).read(bytes);
}

const READER_ROLE = 'licensekit-qr-reader';
const READER_IDLE_MS = 60_000;

type ReaderReply = { id: number; codes: string[] } | { id: number; error: string | null };

interface QrReader {
  read(bytes: Uint8Array): Promise<string[]>;
}

let reader: QrReader | undefined;

function withoutConditions(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const arg = execArgv[index]!;
    if (arg === '--conditions' || arg === '-C') index++;
    else if (!arg.startsWith('--conditions=')) kept.push(arg);
  }
  return kept;
}

function qrReader(script: URL): QrReader {
  if (reader) return reader;
  const worker = new Worker(script, {
    workerData: { role: READER_ROLE },
    // The built module resolves its packages as built too, even in a process started with
    // the sources' export condition (`--conditions=source`, as the test runner is).
    execArgv: withoutConditions(process.execArgv),
  });
  const waiting = new Map<number, { resolve(codes: string[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let idle: NodeJS.Timeout | undefined;
  // An idle reader keeps no process alive, and goes away after a while.
  worker.unref();
  const rest = () => {
    clearTimeout(idle);
    if (waiting.size === 0)
      idle = setTimeout(() => void worker.terminate(), READER_IDLE_MS).unref();
  };
  const fail = (error: Error) => {
    if (reader === current) reader = undefined;
    for (const job of waiting.values()) job.reject(error);
    waiting.clear();
  };
  worker.on('message', (reply: ReaderReply) => {
    const job = waiting.get(reply.id);
    waiting.delete(reply.id);
    if ('codes' in reply) job?.resolve(reply.codes);
    else
      job?.reject(
        reply.error === null ? new Error('the QR reader failed') : new QrImageError(reply.error),
      );
    rest();
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the QR reader stopped')));
  const current: QrReader = {
    read(bytes) {
      clearTimeout(idle);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, bytes });
      });
    },
  };
  reader = current;
  return current;
}

/** Larger images are refused before decoding: the pixels alone would take 4 bytes each. */
export const MAX_IMAGE_PIXELS = 16_000_000;
/** Images are scanned at most this wide or high (larger ones are scaled down first). */
const SCAN_SIZE = 1600;
/** At most this many codes are read in one image. */
const MAX_CODES_PER_IMAGE = 16;
/** The search for codes stops after scanning this many times the image's area. */
const SCAN_BUDGET = 6;

interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The contents of the QR codes in a PNG or JPEG image (a screenshot or a photo), in the
 * order found.
 *
 * jsQR reads one code per scan, and with several codes in view it may pair finder
 * patterns of different codes and read none. So the image is scanned whole, then in
 * overlapping windows (halves, thirds, quarters across, down, and both), each found code
 * painted over so that it is not found again, until the codes read are complete — one
 * text, or every part of a sequence (`LK1/<i>/<n>/…` says how many) — or the scans have
 * covered the image's area SCAN_BUDGET times (a picture without a code costs that much).
 * @throws QrImageError for an image that is not a PNG or JPEG, too large, or damaged
 */
export function readQrCodes(bytes: Uint8Array): string[] {
  const image = scaledDown(decodeImage(bytes), SCAN_SIZE);
  const found: string[] = [];
  let budget = SCAN_BUDGET * image.width * image.height;
  for (const window of windows(image.width, image.height)) {
    if (budget <= 0 || complete(found)) break;
    budget -= window.width * window.height;
    scanWindow(image, window, found);
  }
  return found;
}

/** Whether the codes read make a whole: a text of its own, or all parts of one sequence. */
function complete(found: readonly string[]): boolean {
  if (found.length >= MAX_CODES_PER_IMAGE) return true;
  if (found.some((code) => !code.startsWith('LK1/'))) return true;
  const total = /^LK1\/\d{1,2}\/(\d{1,2})\//.exec(found[0] ?? '')?.[1];
  return total !== undefined && found.length >= Number(total);
}

/** The whole image first, then overlapping windows from large to small. */
function* windows(width: number, height: number): Generator<Window> {
  yield { left: 0, top: 0, width, height };
  for (const splits of [2, 3, 4]) {
    // `splits` windows along an axis, each 2/(splits + 1) of it, half overlapping.
    const segments = (length: number) =>
      Array.from({ length: splits }, (_, index) => ({
        start: Math.floor((index * length) / (splits + 1)),
        size: Math.floor((2 * length) / (splits + 1)),
      }));
    const whole = (length: number) => [{ start: 0, size: length }];
    for (const [xs, ys] of [
      [segments(width), whole(height)],
      [whole(width), segments(height)],
      [segments(width), segments(height)],
    ] as const) {
      for (const y of ys) {
        for (const x of xs) yield { left: x.start, top: y.start, width: x.size, height: y.size };
      }
    }
  }
}

/** Reads the codes in one window of the image, painting each one found over. */
function scanWindow(image: Rgba, window: Window, found: string[]): void {
  const whole = window.width === image.width && window.height === image.height;
  while (found.length < MAX_CODES_PER_IMAGE) {
    const view = whole ? image : crop(image, window);
    const code = jsQR(view.data, view.width, view.height, {
      inversionAttempts: whole && found.length === 0 ? 'attemptBoth' : 'dontInvert',
    });
    if (!code) return;
    const corners = Object.values(code.location).map((point) => ({
      x: point.x + window.left,
      y: point.y + window.top,
    }));
    blankOut(image, corners);
    if (found.includes(code.data)) return;
    found.push(code.data);
  }
}

function crop(image: Rgba, window: Window): Rgba {
  const data = new Uint8ClampedArray(window.width * window.height * 4);
  for (let y = 0; y < window.height; y++) {
    const from = ((window.top + y) * image.width + window.left) * 4;
    data.set(image.data.subarray(from, from + window.width * 4), y * window.width * 4);
  }
  return { data, width: window.width, height: window.height };
}

function decodeImage(bytes: Uint8Array): Rgba {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPng(buffer)) return decodePng(buffer);
  if (isJpeg(buffer)) return decodeJpeg(buffer);
  throw new QrImageError('The image is not a PNG or JPEG file.');
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(buffer: Buffer): boolean {
  return buffer.length > 24 && buffer.subarray(0, 8).equals(PNG_SIGNATURE);
}

function isJpeg(buffer: Buffer): boolean {
  return buffer.length > 3 && buffer[0] === 0xff && buffer[1] === 0xd8 && buffer[2] === 0xff;
}

function decodePng(buffer: Buffer): Rgba {
  // The size from the header (IHDR, always first) before any pixel is inflated: a small
  // file can declare a huge image.
  const width = buffer.readUInt32BE(16);
  const height = buffer.readUInt32BE(20);
  if (width * height > MAX_IMAGE_PIXELS) throw tooLarge();
  try {
    const png = PNG.sync.read(buffer);
    return {
      data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length),
      width: png.width,
      height: png.height,
    };
  } catch {
    throw new QrImageError('The PNG image is damaged or cut short.');
  }
}

function decodeJpeg(buffer: Buffer): Rgba {
  try {
    const image = jpeg.decode(buffer, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1_000_000,
      maxMemoryUsageInMB: 256,
    });
    return {
      data: new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length),
      width: image.width,
      height: image.height,
    };
  } catch (error) {
    if (error instanceof Error && /maxResolutionInMP|maxMemoryUsageInMB/.test(error.message)) {
      throw tooLarge();
    }
    throw new QrImageError('The JPEG image is damaged or cut short.');
  }
}

function tooLarge(): QrImageError {
  return new QrImageError(
    `The image has more than ${MAX_IMAGE_PIXELS / 1_000_000} million pixels: take a smaller picture.`,
  );
}

/**
 * The image scaled down by a whole factor (each output pixel the mean of a square of
 * input pixels) until it fits `size`: a phone photo of 12 million pixels is scanned at
 * about 2 million, which keeps the scan to a fraction of a second and the modules of a
 * dense code several pixels wide.
 */
function scaledDown(image: Rgba, size: number): Rgba {
  const factor = Math.ceil(Math.max(image.width, image.height) / size);
  if (factor <= 1) return image;
  const width = Math.floor(image.width / factor);
  const height = Math.floor(image.height / factor);
  const data = new Uint8ClampedArray(width * height * 4);
  const area = factor * factor;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < factor; dy++) {
        let from = ((y * factor + dy) * image.width + x * factor) * 4;
        for (let dx = 0; dx < factor; dx++, from += 4) {
          r += image.data[from]!;
          g += image.data[from + 1]!;
          b += image.data[from + 2]!;
        }
      }
      const to = (y * width + x) * 4;
      data[to] = r / area;
      data[to + 1] = g / area;
      data[to + 2] = b / area;
      data[to + 3] = 255;
    }
  }
  return { data, width, height };
}

/**
 * Paints white over a found code (the box around its corners, widened by a tenth on each
 * side for the finder patterns' edges), so the next scan finds the next code.
 */
function blankOut(image: Rgba, corners: { x: number; y: number }[]): void {
  const xs = corners.map((corner) => corner.x);
  const ys = corners.map((corner) => corner.y);
  const margin =
    Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) / 10;
  const left = Math.max(0, Math.floor(Math.min(...xs) - margin));
  const right = Math.min(image.width, Math.ceil(Math.max(...xs) + margin));
  const top = Math.max(0, Math.floor(Math.min(...ys) - margin));
  const bottom = Math.min(image.height, Math.ceil(Math.max(...ys) + margin));
  for (let y = top; y < bottom; y++) {
    image.data.fill(255, (y * image.width + left) * 4, (y * image.width + right) * 4);
  }
}

// The reader thread (readQrCodesAside): this module, loaded again by a Worker, answers
// each image with its codes, or with why it has none.
if (!isMainThread && (workerData as { role?: unknown } | null)?.role === READER_ROLE) {
  parentPort?.on('message', ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
    let reply: ReaderReply;
    try {
      reply = { id, codes: readQrCodes(bytes) };
    } catch (error) {
      reply = { id, error: error instanceof QrImageError ? error.message : null };
    }
    parentPort?.postMessage(reply);
  });
}
