/**
 * What the marketplace end-to-end test needs besides a store and a browser: the built CLI
 * as a child process, the text of a PDF (pdfjs-dist, as the store's own tests read it),
 * the vendor's share of an order by core's documented rule, the numbers of a document
 * series, and the log entries of an export (read, and forged with a stolen vendor key).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { splitRevenue } from '../../../packages/core/src/arithmetic/revenue-share.js';
import {
  base64urlDecode,
  base64urlEncode,
  type DecodedDocument,
  decodeDocument,
  readLicenseClaims,
  tokenHash,
  utf8Decode,
  utf8Encode,
} from '../../../packages/core/src/index.js';
import { prepareLicense } from '../../../packages/core/src/write.js';
import { repoRoot } from '../../support/vectors.js';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `licensekit …` of the built CLI; a failing command resolves with its exit code. */
export async function licensekit(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(repoRoot, 'packages/cli/bin/licensekit.mjs'), ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout, err: failed.stderr };
  }
}

/** The text of every page of a PDF file, items joined by spaces. */
export async function pdfText(path: string): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await getDocument({ data: new Uint8Array(readFileSync(path)), verbosity: 0 })
    .promise;
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const page = await document.getPage(number);
    pages.push(
      (await page.getTextContent()).items.map((item) => ('str' in item ? item.str : '')).join(' '),
    );
  }
  return pages.join('\n');
}

/**
 * What a vendor is owed for one order, by the rule core's revenue-share.ts documents: the
 * payment credits round(paid × share) (half away from zero), and refunds split on the
 * running total refunded, so together they take back exactly round(refunded × share).
 * The expected payout is therefore share(paid) − share(refunded), not share(paid − refunded).
 */
export function vendorShareOf(paid: number, refunded: number, shareBps: number): number {
  return splitRevenue(paid, shareBps).vendor - splitRevenue(refunded, shareBps).vendor;
}

/**
 * The documents' numbers grouped by series ("TEST-INV-000003" → "TEST-INV": 3), each
 * series' numbers sorted: a series without gaps is exactly 1…n.
 */
export function numbersBySeries(numbers: readonly string[]): Map<string, number[]> {
  const series = new Map<string, number[]>();
  for (const number of numbers) {
    const match = /^(.*)-(\d{6,})$/.exec(number);
    if (!match) throw new Error(`not a document number: ${number}`);
    const list = series.get(match[1]!) ?? [];
    list.push(Number(match[2]));
    series.set(match[1]!, list);
  }
  for (const list of series.values()) list.sort((a, b) => a - b);
  return series;
}

/** A line of an export's entries.jsonl. */
export interface EntryLine {
  index: number;
  kind: 'license' | 'certificate' | 'revocations';
  document: string;
  documentHash: string;
  loggedAt: string;
}

/** The document a log entry holds (a CWT's bytes, or a JWT's text). */
export function entryDocument(entry: EntryLine): DecodedDocument {
  const bytes = base64urlDecode(entry.document);
  return bytes[0] === 0xd2
    ? decodeDocument(bytes, entry.kind)
    : decodeDocument(utf8Decode(bytes), entry.kind);
}

/**
 * What a thief of one vendor's issuer key could make: `victim`'s license claims signed with
 * the key (and under the kid and certificate) of `signer`'s token, the private key read
 * from the store's data directory (keys/vendors/<vendor>/issuer.json).
 */
export async function forgeWithVendorKey(
  victim: EntryLine,
  signer: EntryLine,
  issuerKeyFile: string,
): Promise<EntryLine> {
  const claims = readLicenseClaims(entryDocument(victim));
  const signerDocument = entryDocument(signer);
  const jwk = JSON.parse(readFileSync(issuerKeyFile, 'utf8')) as { x: string; d: string };
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d },
    format: 'jwk',
  });
  const prepared = prepareLicense(claims, {
    format: signerDocument.format,
    kid: signerDocument.kid,
    certificate: signerDocument.certificate,
  });
  const token = prepared.finish(new Uint8Array(sign(null, prepared.signingInput, key)));
  const bytes = signerDocument.format === 'jwt' ? utf8Encode(token) : base64urlDecode(token);
  return { ...victim, document: base64urlEncode(bytes), documentHash: await tokenHash(bytes) };
}
