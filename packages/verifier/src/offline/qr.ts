import type { OfflineRequest } from '@licensekit/core/offline';
import { QR_MAX_BYTES_LEVEL_M, qrParts } from '@licensekit/core/offline';

export interface QrOptions {
  /**
   * Characters per code, part header included; default the most one code holds at error
   * correction level M (2331, version 40). Smaller codes are easier to scan from a screen,
   * at the price of more of them.
   */
  maxLength?: number;
  /** Quiet zone around each code, in modules. Default 4, what the standard asks for. */
  margin?: number;
}

/** One QR code as modules, for drawing on a canvas or in a terminal. */
export interface QrMatrix {
  /** The text the code holds: the request, or one `LK1/<i>/<n>/…` part of it. */
  text: string;
  /** Modules per side. */
  size: number;
  /** size × size entries, row by row: 1 dark, 0 light. */
  modules: Uint8Array;
}

type QrEncoder = typeof import('./qr-encoder.js').qrEncoder;

/**
 * The QR encoder (the `qrcode` package), loaded on first use: a chunk of its own in browser
 * bundles (qr-encoder-<hash>.js), so that apps which never draw a code never load it.
 */
export async function loadQrEncoder(): Promise<QrEncoder> {
  return (await import('./qr-encoder.js')).qrEncoder;
}

/**
 * The texts the codes of a request hold: the request itself when it fits one code (a
 * request without a usage report always does), else its numbered parts (core's qrParts),
 * which the store joins in any order.
 */
export function requestQrTexts(
  request: OfflineRequest | string,
  options: QrOptions = {},
): string[] {
  const text = typeof request === 'string' ? request.replace(/\s+/g, '') : request.text;
  return qrParts(text, options.maxLength ?? QR_MAX_BYTES_LEVEL_M);
}

/**
 * Byte mode throughout: the capacity qrParts counts with (2331 bytes at level M), and
 * every scanner reads it. (The texts are ASCII: one byte per character.)
 */
export function qrSegments(text: string): { data: Uint8Array; mode: 'byte' }[] {
  return [{ data: new TextEncoder().encode(text), mode: 'byte' }];
}

/**
 * A request as QR codes, SVG documents (one per code, in order), at error correction
 * level M. One code unless the request carries a large usage report.
 * @example
 * for (const svg of await requestQrCodes(request)) container.insertAdjacentHTML('beforeend', svg);
 */
export async function requestQrCodes(
  request: OfflineRequest | string,
  options: QrOptions = {},
): Promise<string[]> {
  const qr = await loadQrEncoder();
  return Promise.all(
    requestQrTexts(request, options).map((text) =>
      qr.toString(qrSegments(text), {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: options.margin ?? 4,
      }),
    ),
  );
}

/** The same codes as module matrices, for an app that draws them itself (a canvas). */
export async function requestQrMatrices(
  request: OfflineRequest | string,
  options: QrOptions = {},
): Promise<QrMatrix[]> {
  const qr = await loadQrEncoder();
  return requestQrTexts(request, options).map((text) => {
    const { modules } = qr.create(qrSegments(text), { errorCorrectionLevel: 'M' });
    return {
      text,
      size: modules.size,
      modules: Uint8Array.from(modules.data, (bit) => (bit ? 1 : 0)),
    };
  });
}
