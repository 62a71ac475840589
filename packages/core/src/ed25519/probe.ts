import type { Ed25519Backend } from './backend.js';

/**
 * Feature detection by behaviour, not by user agent: a backend qualifies when it verifies a
 * known-good signature and refuses its malleated twin. A runtime that lacks Ed25519 fails the
 * first check (importKey or verify rejects); one that does not enforce S < L fails the second
 * and would disagree with the other backends on Wycheproof's SignatureMalleability vectors.
 */

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

// RFC 8032 §7.1, TEST 1 (empty message).
const TEST1_PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const TEST1_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

/**
 * TEST 1's signature with S replaced by S + L (L = 2^252 + 27742317777372353535851937790883648493,
 * RFC 8032 §5.1). Same scalar mod L, so a verifier that skips the S < L check of §5.1.7 accepts it.
 */
export const TEST1_SIGNATURE_S_PLUS_L =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901554c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b';

/** True when the backend works here and is at least as strict as RFC 8032 on S. Never throws. */
export async function verifiesStrictly(backend: Ed25519Backend): Promise<boolean> {
  try {
    const key = await backend.importPublicKey(fromHex(TEST1_PUBLIC_KEY));
    const empty = new Uint8Array(0);
    const accepts = await backend.verify(key, empty, fromHex(TEST1_SIGNATURE));
    const acceptsMalleated = await backend.verify(key, empty, fromHex(TEST1_SIGNATURE_S_PLUS_L));
    return accepts && !acceptsMalleated;
  } catch {
    return false;
  }
}
