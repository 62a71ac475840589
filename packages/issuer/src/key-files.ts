import { generateKeyPairSync } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import {
  ConfigError,
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  isBase64urlOfLength,
  jwkThumbprint,
  KeyError,
  parsePrivateJwk,
  parsePublicJwk,
} from '@licensekit/core';
import { pathExists, replaceFile, writeNewFile } from './lib/files.js';
import { checkEd25519Members, checkedKid, readJwkFile } from './lib/jwk-file.js';
import { importPrivateJwk } from './lib/node-key.js';

/** A freshly generated Ed25519 key pair; both JWKs carry the kid. */
export interface KeyPair {
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  privateJwk: Ed25519PrivateJwk & { kid: string };
  publicJwk: Ed25519PublicJwk & { kid: string };
}

/** Where {@link writeKeyPair} put the two files. */
export interface KeyPairPaths {
  privateKeyPath: string;
  publicKeyPath: string;
}

/** Options of {@link writeKeyPair}. */
export interface WriteKeyPairOptions {
  /** Replace existing files (the old private key is then gone for good). Default false. */
  overwrite?: boolean | undefined;
}

// The private key is for its owner only (DESIGN.md "Keys and trust"); the public key is
// meant to be shipped and shared.
const PRIVATE_KEY_MODE = 0o600;
const PUBLIC_KEY_MODE = 0o644;
const PUBLIC_SUFFIX = '.pub.json';

/**
 * Generates an Ed25519 key pair with node:crypto (the OS CSPRNG) and returns it as JWKs
 * (RFC 8037 §2) with `kid` = RFC 7638 thumbprint.
 *
 * @example
 * ```ts
 * const pair = await generateKeyPair();
 * await writeKeyPair('keys/issuer.json', pair); // and keys/issuer.pub.json
 * ```
 */
export async function generateKeyPair(): Promise<KeyPair> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const { x, d } = privateKey.export({ format: 'jwk' });
  if (x === undefined || d === undefined) throw new KeyError('node:crypto exported no Ed25519 JWK');
  const kid = await jwkThumbprint({ x });
  return {
    kid,
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x, d, kid },
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid },
  };
}

/**
 * The public key file that goes with a private key file: `key.json` → `key.pub.json`; a
 * name not ending in `.json` gets `.pub.json` appended.
 *
 * @example
 * ```ts
 * publicKeyPathFor('keys/root.json'); // 'keys/root.pub.json'
 * ```
 */
export function publicKeyPathFor(privateKeyPath: string): string {
  return privateKeyPath.endsWith('.json')
    ? `${privateKeyPath.slice(0, -'.json'.length)}${PUBLIC_SUFFIX}`
    : `${privateKeyPath}${PUBLIC_SUFFIX}`;
}

/** The pair after checking that its parts belong together, as the two file contents. */
async function keyFileContents(
  pair: KeyPair,
): Promise<{ privateText: string; publicText: string }> {
  const { publicJwk } = importPrivateJwk(pair.privateJwk, 'key pair private key');
  const kid = await jwkThumbprint(publicJwk);
  if (
    pair.publicJwk?.x !== publicJwk.x ||
    pair.kid !== kid ||
    pair.privateJwk.kid !== kid ||
    pair.publicJwk.kid !== kid
  ) {
    throw new KeyError(
      'key pair is inconsistent: its public key or kid is not that of its private key',
    );
  }
  const { d } = parsePrivateJwk(pair.privateJwk);
  const privateFile = { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x, d, kid };
  const publicFile = { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x, kid };
  return {
    privateText: `${JSON.stringify(privateFile, null, 2)}\n`,
    publicText: `${JSON.stringify(publicFile, null, 2)}\n`,
  };
}

function refuseOverwrite(path: string): KeyError {
  return new KeyError(
    `${path} already exists; refusing to overwrite a key file: choose another path, ` +
      'or pass { overwrite: true } to replace it (the old key is then lost)',
  );
}

/**
 * Writes a key pair: the private JWK to `path` with mode 0600, the public JWK to the
 * sibling `.pub.json` ({@link publicKeyPathFor}) with mode 0644. Modes are set with fchmod,
 * so the umask cannot loosen or tighten them. Without `overwrite`, an existing file at
 * either path is refused (a new private key beside a stale public key would publish the
 * wrong key); with it, each file is replaced atomically (temporary file and rename).
 *
 * @example
 * ```ts
 * const { privateKeyPath, publicKeyPath } = await writeKeyPair('root.json', await generateKeyPair());
 * ```
 * @throws KeyError when a file exists (without overwrite), cannot be written, or the pair
 *   is inconsistent; ConfigError when `path` is itself a `.pub.json` name
 */
export async function writeKeyPair(
  path: string,
  pair: KeyPair,
  options: WriteKeyPairOptions = {},
): Promise<KeyPairPaths> {
  if (path.endsWith(PUBLIC_SUFFIX)) {
    throw new ConfigError(
      `${path} is a public key file name; give the private key path (e.g. key.json)`,
    );
  }
  const publicKeyPath = publicKeyPathFor(path);
  const { privateText, publicText } = await keyFileContents(pair);
  if (options.overwrite === true) {
    await replaceFile(path, privateText, PRIVATE_KEY_MODE);
    await replaceFile(publicKeyPath, publicText, PUBLIC_KEY_MODE);
    return { privateKeyPath: path, publicKeyPath };
  }
  // Both names are checked before anything is written, so a refusal leaves no half pair;
  // 'wx' below still catches a file created in between.
  for (const existing of [path, publicKeyPath]) {
    if (await pathExists(existing)) throw refuseOverwrite(existing);
  }
  if (!(await writeNewFile(path, privateText, PRIVATE_KEY_MODE))) throw refuseOverwrite(path);
  if (!(await writeNewFile(publicKeyPath, publicText, PUBLIC_KEY_MODE))) {
    await unlink(path);
    throw refuseOverwrite(publicKeyPath);
  }
  return { privateKeyPath: path, publicKeyPath };
}

/** Quotes a path for a shell command in a hint, only when it needs it. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * Reads a private key file written by {@link writeKeyPair}. On POSIX systems a file that
 * group or other users can read or write is refused, as ssh refuses such identity files:
 * the key may already have leaked, and signing on would hide it. The key is checked in
 * full (`x` is the public key of `d`, `kid` is the thumbprint) before it is returned.
 *
 * @example
 * ```ts
 * const signer = await createSigner(await readPrivateKeyFile('keys/issuer.json'));
 * ```
 * @throws KeyError with one sentence naming the file, what is wrong and what to do; it never
 *   contains the file's content
 */
export async function readPrivateKeyFile(
  path: string,
): Promise<Ed25519PrivateJwk & { kid: string }> {
  const { jwk, mode } = await readJwkFile(path);
  // The kind first: a public key file is meant to be world-readable, so the mode advice
  // would only mislead.
  if (!Object.hasOwn(jwk, 'd')) {
    throw new KeyError(
      `${path} holds a public key, not a private key; give the private key file (without .pub)`,
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const access = (mode & 0o044) !== 0 ? 'readable' : 'writable';
    throw new KeyError(
      `${path} is ${access} by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${shellWord(path)}`,
    );
  }
  checkEd25519Members(jwk, path);
  if (!isBase64urlOfLength(jwk.d, 32)) {
    throw new KeyError(
      `${path} has no valid private key ("d"); it is damaged: restore it from a backup`,
    );
  }
  try {
    importPrivateJwk(jwk, path);
  } catch {
    throw new KeyError(
      `${path} holds a private key that does not match its public key ("x"); restore it from a backup`,
    );
  }
  const kid = await checkedKid(jwk, jwk.x as string, path);
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string, d: jwk.d as string, kid };
}

/**
 * Reads a public key file (a `.pub.json` written by {@link writeKeyPair}, or any Ed25519
 * public JWK). A file holding a private key is refused: public keys get copied, embedded
 * and committed, and a private key must never travel that way.
 *
 * @example
 * ```ts
 * const issuerKey = await readPublicKeyFile('keys/issuer.pub.json');
 * ```
 * @throws KeyError naming the file; it never contains the file's content
 */
export async function readPublicKeyFile(path: string): Promise<Ed25519PublicJwk & { kid: string }> {
  const { jwk } = await readJwkFile(path);
  if (Object.hasOwn(jwk, 'd')) {
    throw new KeyError(
      path.endsWith(PUBLIC_SUFFIX)
        ? `${path} contains a private key ("d") although it is a public key file; do not share it, and write the pair again with writeKeyPair`
        : `${path} contains a private key ("d"); give the public key file ${publicKeyPathFor(path)} instead`,
    );
  }
  checkEd25519Members(jwk, path);
  const { x } = parsePublicJwk({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  return { kty: 'OKP', crv: 'Ed25519', x, kid: await checkedKid(jwk, x, path) };
}
