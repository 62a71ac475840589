import { base64urlDecode } from '../encoding/base64url.js';
import type { Ed25519Backend } from './backend.js';

/**
 * Feature detection by behaviour, not by user agent: a backend qualifies when it verifies a
 * known-good signature and refuses its malleated twin. A runtime that lacks Ed25519 fails the
 * first check (importKey or verify rejects); one that does not enforce S < L fails the second
 * and would disagree with the other backends on Wycheproof's SignatureMalleability vectors.
 */

// RFC 8032 §7.1, TEST 1 (empty message), in base64url: the public key and R || S.
const TEST1_PUBLIC_KEY = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo';
const TEST1_SIGNATURE =
  '5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc-bRr0lv18FlbviRlUUFDjnoQCw';
// The same R with S + L in place of S, L = 2^252 + 27742317777372353535851937790883648493
// (RFC 8032 §5.1; S and L little-endian, S + L < 2^256). Kept as a constant rather than
// computed, since it is the smaller of the two in a bundle; backends.test.ts recomputes it.
const TEST1_MALLEATED =
  '5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVMjHhyqgZOBJ27MBP78pOA0lv18FlbviRlUUFDjnoQGw';

export interface ProbeVector {
  publicKey: Uint8Array;
  signature: Uint8Array;
  /**
   * The signature with S replaced by S + L. Same scalar mod L, so a verifier that skips the
   * S < L check of §5.1.7 accepts it.
   */
  malleated: Uint8Array;
}

/** TEST 1 as bytes, and its malleated twin. */
export function probeVector(): ProbeVector {
  return {
    publicKey: base64urlDecode(TEST1_PUBLIC_KEY),
    signature: base64urlDecode(TEST1_SIGNATURE),
    malleated: base64urlDecode(TEST1_MALLEATED),
  };
}

/** True when the backend works here and is at least as strict as RFC 8032 on S. Never throws. */
export async function verifiesStrictly(backend: Ed25519Backend): Promise<boolean> {
  try {
    const { publicKey, signature, malleated } = probeVector();
    const key = await backend.importPublicKey(publicKey);
    const empty = new Uint8Array(0);
    return (
      (await backend.verify(key, empty, signature)) &&
      !(await backend.verify(key, empty, malleated))
    );
  } catch {
    return false;
  }
}
