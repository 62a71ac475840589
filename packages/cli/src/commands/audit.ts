import {
  type DecodedDocument,
  decodeDocument,
  defaultBackend,
  type IssuerCertificateClaims,
  jwkThumbprint,
  type LicenseClaims,
  publicKeyBytes,
  readCertificateClaims,
  readLicenseClaims,
  tokenHash,
} from '@licensekit/core';
import { createVerifier, type VerifyStatus } from '@licensekit/verifier';
import { EXIT } from '../lib/errors.js';
import { readTextFile } from '../lib/files.js';
import type { Io } from '../lib/io.js';
import { isoTime, parseTime } from '../lib/time.js';
import { readTrustKeys } from '../lib/trust.js';

export interface AuditChainFlags {
  trust?: string[];
}

export interface AuditCertFlags {
  trust?: string[];
  now?: string;
}

/** Statuses that say the signature or its chain of trust is wrong: failures in an audit. */
const TRUST_FAILURES: ReadonlySet<VerifyStatus> = new Set([
  'malformed',
  'untrusted_key',
  'invalid_signature',
]);

interface Link {
  file: string;
  text: string;
  document?: DecodedDocument;
  claims?: LicenseClaims;
  problems: string[];
}

/**
 * `licensekit audit chain --trust KEY TOKEN_FILE…`: checks one license's lineage. Every
 * token must verify against the trust (signature and certificate chain, judged at the
 * token's own issue time: that it has since expired is not a failure here); all share
 * one `sub`; sorted by `seq`, each `seq` is the previous + 1 and each `prev` is the
 * SHA-256 of the previous token's bytes. One line per token, then a verdict; exit 0 when
 * the chain holds, 1 when it does not.
 */
export async function auditChain(files: string[], flags: AuditChainFlags, io: Io): Promise<number> {
  const keys = await readTrustKeys(flags.trust ?? []);
  const links: Link[] = [];
  for (const file of files) {
    const text = (await readTextFile(file, 'token file')).trim();
    const link: Link = { file, text, problems: [] };
    try {
      link.document = decodeDocument(text, 'license');
      link.claims = readLicenseClaims(link.document);
    } catch (error) {
      link.problems.push(`malformed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (link.claims !== undefined) {
      const claims = link.claims;
      // Judged at its own issue time, statelessly: only the signature and trust matter.
      const verifier = createVerifier({
        trust: { roots: keys, issuers: keys },
        product: claims.aud,
        state: false,
        clock: () => claims.iat * 1000,
      });
      const result = await verifier.verify(text);
      if (TRUST_FAILURES.has(result.status))
        link.problems.push(`${result.status}: ${result.message}`);
    }
    links.push(link);
  }
  // Lineage order is seq order; unreadable tokens go last.
  links.sort(
    (a, b) =>
      (a.claims?.seq ?? Number.MAX_SAFE_INTEGER) - (b.claims?.seq ?? Number.MAX_SAFE_INTEGER),
  );
  const license = links.find((link) => link.claims !== undefined)?.claims?.sub;
  let previous: Link | undefined;
  for (const link of links) {
    const claims = link.claims;
    if (claims !== undefined) {
      if (claims.sub !== license)
        link.problems.push(`belongs to license ${claims.sub}, not ${license}`);
      if (previous?.claims !== undefined && previous.document !== undefined) {
        const expectedSeq = previous.claims.seq + 1;
        if (claims.seq !== expectedSeq) {
          link.problems.push(
            claims.seq === previous.claims.seq
              ? `repeats seq ${claims.seq} (${previous.file})`
              : `seq ${claims.seq} follows seq ${previous.claims.seq}: token(s) missing`,
          );
        } else if (claims.prev !== (await tokenHash(previous.document.bytes))) {
          link.problems.push(
            `prev is not the hash of seq ${previous.claims.seq} (${previous.file}): the link is broken`,
          );
        }
      }
      previous = link;
    }
  }
  const broken = links.filter((link) => link.problems.length > 0).length;
  for (const link of links) {
    const claims = link.claims;
    const where =
      claims === undefined
        ? link.file
        : `seq ${claims.seq}  ${link.file}  issued ${isoTime(claims.iat)}`;
    io.out(
      link.problems.length === 0
        ? `ok    ${where}\n`
        : `FAIL  ${where}: ${link.problems.join('; ')}\n`,
    );
  }
  const first = links[0]?.claims?.seq;
  if (broken === 0) {
    io.out(
      `chain OK: ${links.length} token(s) of license ${license}, seq ${first} to ${previous?.claims?.seq}${first !== 0 ? ' (earlier tokens not given)' : ''}\n`,
    );
    return EXIT.ok;
  }
  io.out(`chain BROKEN: ${broken} of ${links.length} token(s) fail\n`);
  return EXIT.no;
}

/**
 * `licensekit audit cert --trust ROOT CERT_FILE…`: each issuer certificate must be signed
 * by a trusted root; its window, vendor, certified key and product scope are printed, and
 * certificates outside their window at `--now` are flagged (not failures: an expired
 * certificate is history, not forgery). Exit 1 when any is not trusted.
 */
export async function auditCert(files: string[], flags: AuditCertFlags, io: Io): Promise<number> {
  const now =
    flags.now === undefined ? Math.floor(Date.now() / 1000) : parseTime(flags.now, '--now');
  const keys = await readTrustKeys(flags.trust ?? []);
  const backend = await defaultBackend();
  const roots = new Map(
    await Promise.all(
      keys.map(
        async (key) => [key.kid, await backend.importPublicKey(publicKeyBytes(key))] as const,
      ),
    ),
  );
  let failures = 0;
  for (const file of files) {
    const text = (await readTextFile(file, 'certificate file')).trim();
    let document: DecodedDocument;
    let claims: IssuerCertificateClaims;
    try {
      document = decodeDocument(text, 'certificate');
      claims = readCertificateClaims(document);
    } catch (error) {
      failures++;
      io.out(
        `FAIL  ${file}: malformed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      continue;
    }
    const root = roots.get(document.kid);
    const signed =
      root !== undefined && (await backend.verify(root, document.signingInput, document.signature));
    const window = `${isoTime(claims.nbf)} to ${isoTime(claims.exp)}`;
    const flag = now >= claims.exp ? '  EXPIRED' : now < claims.nbf ? '  NOT YET VALID' : '';
    const details = `vendor ${claims.iss}, key ${await jwkThumbprint({ x: claims.key })}, products ${claims.products.join(', ')}, valid ${window}${flag}`;
    if (signed) {
      io.out(`ok    ${file}: ${details}\n`);
    } else {
      failures++;
      const why =
        root === undefined
          ? `signed by ${document.kid}, not a --trust root`
          : 'the signature does not match';
      io.out(`FAIL  ${file}: ${why}; ${details}\n`);
    }
  }
  io.out(
    failures === 0
      ? `certificates OK: ${files.length} signed by a trusted root\n`
      : `certificates BROKEN: ${failures} of ${files.length} fail\n`,
  );
  return failures === 0 ? EXIT.ok : EXIT.no;
}
