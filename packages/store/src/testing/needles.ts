/**
 * The forms a secret could take where it leaks: its text in any case and without
 * separators, and its bytes as hex, base64 and base64url — for base64 at each of the three
 * byte alignments, so that a secret inside a longer encoded value is found too.
 */

/** The stable middle of `bytes` base64-encoded after 0, 1 and 2 bytes of anything. */
export function base64Cores(bytes: Uint8Array): string[] {
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(offset), Buffer.from(bytes)]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    // Characters that also depend on the bytes before or after are left out.
    const start = offset === 0 ? 0 : 4;
    const end = padded.length % 3 === 0 ? encoded.length : Math.floor(padded.length / 3) * 4;
    const core = encoded.slice(start, end);
    if (core.length >= 16) cores.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return cores;
}

/** Text forms of a secret: itself, case and separator variants, and its encodings. */
export function textNeedles(text: string, bytes?: Uint8Array): string[] {
  const compact = text.replace(/[-\s]/g, '');
  const forms = new Set([
    text,
    text.toLowerCase(),
    text.toUpperCase(),
    compact,
    compact.toLowerCase(),
  ]);
  for (const form of [...forms]) {
    const utf8 = Buffer.from(form);
    forms.add(utf8.toString('hex'));
    for (const core of base64Cores(utf8)) forms.add(core);
  }
  if (bytes) {
    const raw = Buffer.from(bytes);
    forms.add(raw.toString('hex'));
    forms.add(raw.toString('hex').toUpperCase());
    forms.add(raw.toString('base64'));
    forms.add(raw.toString('base64url'));
    for (const core of base64Cores(raw)) forms.add(core);
  }
  return [...forms].filter((form) => form.length >= 16);
}

/** The raw bytes of a secret (for binary files such as the database's own). */
export function binaryNeedles(bytes: Uint8Array): Buffer[] {
  return [Buffer.from(bytes)];
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The random bytes behind a license key (its Crockford base32 body). */
export function licenseKeyBytes(key: string): Buffer {
  const body = key.replace(/^LK-/, '').replace(/-/g, '');
  let value = 0n;
  for (const symbol of body) {
    const digit = CROCKFORD.indexOf(symbol);
    if (digit < 0) throw new Error(`not a Crockford base32 symbol: ${symbol}`);
    value = (value << 5n) | BigInt(digit);
  }
  const bits = body.length * 5;
  const bytes = Buffer.alloc(Math.floor(bits / 8));
  value >>= BigInt(bits % 8);
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}
