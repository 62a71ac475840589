import {
  decodeDocument,
  type IssuerCertificateClaims,
  readCertificateClaims,
} from '@licensekit/core';
import { UsageError } from './errors.js';
import { readTextFile } from './files.js';

/** Reads an issuer certificate file (`--cert`), decoded to catch the wrong file early. */
export async function readCertificateFile(
  path: string,
): Promise<{ text: string; claims: IssuerCertificateClaims }> {
  const text = (await readTextFile(path, '--cert certificate file', 64 * 1024)).trim();
  try {
    return { text, claims: readCertificateClaims(decodeDocument(text, 'certificate')) };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `--cert ${path} is not an issuer certificate (${why}); give the file written by licensekit cert`,
    );
  }
}

/** A ConfigError about the certificate (wrong key, vendor, product or window), with the flag. */
export function certificateProblem(error: unknown, path: string | undefined): unknown {
  if (
    error instanceof Error &&
    'code' in error &&
    error.code === 'ERR_CONFIG' &&
    /certificate/.test(error.message)
  ) {
    return new UsageError(path === undefined ? error.message : `--cert ${path}: ${error.message}`);
  }
  return error;
}
