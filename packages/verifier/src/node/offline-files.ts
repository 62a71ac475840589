import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError } from '@licensekit/core';
import type { OfflineRequest } from '@licensekit/core/offline';
import { MAX_OFFLINE_TEXT_LENGTH } from '@licensekit/core/offline';
import type { QrOptions } from '../offline/qr.js';
import { loadQrEncoder, qrSegments, requestQrCodes, requestQrTexts } from '../offline/qr.js';
import { writeAtomically } from './atomic-write.js';

/**
 * Offline requests and responses as files, for Node and the Electron main process: what a
 * customer carries on a USB stick between the machine that never goes online and one that
 * reaches the store's portal.
 */

/**
 * Writes a request's text to `path`, atomically. Mode 0644: the request holds no secret
 * (a public key, a license id or key hint, a nonce, a signature) and is meant to be copied.
 */
export async function writeRequestFile(path: string, request: OfflineRequest): Promise<void> {
  await writeAtomically(path, `${request.text}\n`, 0o644);
}

/**
 * Reads a response file as text for `importOfflineResponse`. Reads at most one character
 * past the longest response, so a wrong (huge) file costs nothing and is then refused as
 * `too_large` by the import rather than here.
 */
export async function readResponseFile(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(MAX_OFFLINE_TEXT_LENGTH * 4 + 4);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return new TextDecoder().decode(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * Writes a request as QR code images: SVG or PNG by the extension of `path`. One code is
 * written to `path`; a request that needs several (a large usage report) to `name-1.svg`,
 * `name-2.svg` … beside it. Returns the paths written, in order.
 * @throws ConfigError for another extension
 */
export async function writeRequestQrCodes(
  path: string,
  request: OfflineRequest,
  options: QrOptions = {},
): Promise<string[]> {
  const extension = extname(path).toLowerCase();
  if (extension !== '.svg' && extension !== '.png') {
    throw new ConfigError(`QR codes are written as .svg or .png files, not ${extension || path}`);
  }
  const texts = requestQrTexts(request, options);
  const paths =
    texts.length === 1
      ? [path]
      : texts.map((_, i) => `${path.slice(0, -extension.length)}-${i + 1}${extension}`);
  if (extension === '.svg') {
    const svgs = await requestQrCodes(request, options);
    await Promise.all(svgs.map((svg, i) => writeAtomically(paths[i]!, svg, 0o644)));
    return paths;
  }
  const qr = await loadQrEncoder();
  await Promise.all(
    texts.map(async (text, i) => {
      const png = await qr.toBuffer(qrSegments(text), {
        type: 'png',
        errorCorrectionLevel: 'M',
        margin: options.margin ?? 4,
        scale: 4,
      });
      await writeAtomically(paths[i]!, new Uint8Array(png), 0o644);
    }),
  );
  return paths;
}
