// Runs under Deno and Bun (test/runtimes/runtimes.test.ts): loads the browser build of the
// verifier, verifies a CWT and a JWT with both entries, spends quota with the full one (the
// compact entry is stateless), and prints the outcome as one line of JSON.
// Usage: <runtime> smoke.mjs BUNDLE_DIR FIXTURE_JSON
// Web-standard APIs only, so the same file runs in every runtime.

const args = globalThis.Deno?.args ?? globalThis.process.argv.slice(2);
const [bundleDir, fixtureJson] = args;
const fixture = JSON.parse(fixtureJson);
const bundleUrl = (file) =>
  new URL(file, `file://${bundleDir.endsWith('/') ? bundleDir : `${bundleDir}/`}`).href;

const fromHex = (hex) => Uint8Array.from(hex.match(/../g), (byte) => Number.parseInt(byte, 16));

/**
 * The backend the bundle picks here, by the same behaviour core's probe tests (RFC 8032
 * §7.1 TEST 1 verifies, its S + L twin does not): "webcrypto", else "noble".
 */
async function expectedBackend() {
  const key = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
  const signature =
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
  const malleated =
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901554c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b';
  try {
    const algorithm = { name: 'Ed25519' };
    const cryptoKey = await crypto.subtle.importKey('raw', fromHex(key), algorithm, false, [
      'verify',
    ]);
    const empty = new Uint8Array(0);
    const good = await crypto.subtle.verify(algorithm, cryptoKey, fromHex(signature), empty);
    const bad = await crypto.subtle
      .verify(algorithm, cryptoKey, fromHex(malleated), empty)
      .catch(() => false);
    return good && !bad ? 'webcrypto' : 'noble';
  } catch {
    return 'noble';
  }
}

async function checkFull() {
  const { createVerifier, memoryState } = await import(bundleUrl('licensekit-verifier.js'));
  const verifier = createVerifier({
    trust: { roots: [fixture.root] },
    product: fixture.product,
    state: memoryState(),
  });
  const cwt = await verifier.verify(fixture.cwt);
  const jwt = await verifier.verify(fixture.jwt);
  const spent = await verifier.consume(fixture.cwt, fixture.quota.name, 3);
  return {
    cwt: cwt.status,
    jwt: jwt.status,
    consumed: { granted: spent.granted, remaining: spent.remaining },
  };
}

async function checkCompact() {
  const { createVerifier } = await import(bundleUrl('licensekit-verifier-compact.js'));
  const verifier = createVerifier({ trust: { roots: [fixture.root] }, product: fixture.product });
  const cwt = await verifier.verify(fixture.cwt);
  const jwt = await verifier.verify(fixture.jwt);
  return { cwt: cwt.status, jwt: jwt.status, api: Object.keys(verifier).sort() };
}

const runtime = globalThis.Deno
  ? `deno ${Deno.version.deno}`
  : globalThis.Bun
    ? `bun ${Bun.version}`
    : 'unknown';
const out = {
  runtime,
  backend: await expectedBackend(),
  full: await checkFull(),
  compact: await checkCompact(),
};
console.log(JSON.stringify(out));
