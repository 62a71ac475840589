/**
 * A real issuance log for the verifier's tests, built with core's primitives as the store
 * builds its own: an RFC 9162 tree in memory, checkpoints signed by an Ed25519 note key,
 * inclusion proofs as bundles. Test-only.
 */
import { randomBytes } from 'node:crypto';
import { defaultBackend } from '@licensekit/core';
import {
  createProofBundle,
  formatVerifierKey,
  inclusionProof,
  type LogProofBundle,
  logEntryHash,
  MemoryTree,
  noteVerifierKey,
  signCheckpoint,
} from '@licensekit/core/log';
import { tokenBytes } from '../../../../test/support/tokens.js';

export const LOG_ORIGIN = 'store.example/licensekit/log';

/** A log signing key: its name, the signer for signCheckpoint, and its verifier key string. */
export interface TestLogKey {
  readonly name: string;
  readonly signer: Parameters<typeof signCheckpoint>[1];
  /** `<name>+<key ID>+<base64 key>`, what `trust.logKeys` takes. */
  readonly verifierKey: string;
}

export async function testLogKey(name: string = LOG_ORIGIN): Promise<TestLogKey> {
  const privateKey = await (await defaultBackend()).importPrivateKey(
    new Uint8Array(randomBytes(32)),
  );
  return {
    name,
    signer: { name, privateKey },
    verifierKey: formatVerifierKey(await noteVerifierKey(name, privateKey.publicKey)),
  };
}

export interface TestLog {
  readonly key: TestLogKey;
  /** Appends a license token (and `filler` unrelated entries before it); returns its index. */
  append(token: string, filler?: number): Promise<number>;
  /**
   * The bundle of a logged token under a fresh checkpoint of the whole tree, signed by
   * `signer` (default: the log's key) for `origin` (default: the log's origin).
   */
  proof(token: string, options?: { signer?: TestLogKey; origin?: string }): Promise<LogProofBundle>;
}

export async function testLog(key?: TestLogKey): Promise<TestLog> {
  const logKey = key ?? (await testLogKey());
  const tree = new MemoryTree();
  const indexes = new Map<string, number>();
  let fillers = 0;
  return {
    key: logKey,
    async append(token, filler = 3) {
      const others = Array.from({ length: filler }, () =>
        logEntryHash('revocations', Uint8Array.of(fillers++ % 256, fillers >> 8)),
      );
      await tree.append(await Promise.all(others));
      const index = tree.size;
      await tree.append([await logEntryHash('license', tokenBytes(token))]);
      indexes.set(token, index);
      return index;
    },
    async proof(token, options = {}) {
      const index = indexes.get(token);
      if (index === undefined) throw new Error('test log: the token was never appended');
      const signer = options.signer ?? logKey;
      const head = {
        origin: options.origin ?? logKey.name,
        size: tree.size,
        rootHash: await tree.root(),
      };
      const note = await signCheckpoint(head, signer.signer);
      return createProofBundle(
        index,
        tree.size,
        await inclusionProof(tree, index, tree.size),
        note,
      );
    },
  };
}
