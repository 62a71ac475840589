/**
 * Issues 2 and 9: the length of a typical license in its text form, CWT against JWT,
 * and where the characters go; and the one-file bundles of the verifier entries (issue 9).
 * Sizes are exact, so this is one measurement, not a run.
 * CWT parts are attributed 4/3 characters per byte (base64url runs across part
 * boundaries); JWT parts are counted in their own segments, header members at 4/3 of
 * their JSON bytes.
 */
import { base64urlDecode, decodeCoseSign1, decodeDocument } from '../packages/core/dist/index.js';
import { measure } from '../scripts/size.mjs';

const COMMAND = 'pnpm bench size';
const HEADER = { alg: 1, kid: 4, typ: 16, certificate: -65537 };

/** Bytes of a CBOR head (RFC 8949 §3) for an argument of this size. */
function cborHead(argument) {
  if (argument < 24) return 1;
  if (argument < 256) return 2;
  if (argument < 65_536) return 3;
  return argument < 2 ** 32 ? 5 : 9;
}

/** Bytes of an integer label: major type 0 or 1 with the magnitude as argument. */
const cborLabel = (label) => cborHead(label < 0 ? -1 - label : label);

/** Bytes of an encoded value: a uint (a content format) or a text (a 0.1 media type). */
const valueBytes = (value) =>
  typeof value === 'number' ? cborHead(value) : cborHead(value.length) + value.length;

/** Byte counts of the parts of a COSE_Sign1. */
function coseParts(bytes) {
  const sign1 = decodeCoseSign1(bytes);
  const header = sign1.protectedHeader;
  const member = (label, size) => (header.has(label) ? cborLabel(label) + size : 0);
  const certificate = header.get(HEADER.certificate);
  const kid = header.get(HEADER.kid);
  const parts = {
    signature: cborHead(64) + sign1.signature.length,
    kid: kid ? member(HEADER.kid, cborHead(kid.length) + kid.length) : 0,
    typ: member(HEADER.typ, valueBytes(header.get(HEADER.typ) ?? '')),
    alg: cborLabel(HEADER.alg) + 1,
    certificate: certificate
      ? member(HEADER.certificate, cborHead(certificate.length) + certificate.length)
      : 0,
    claims: cborHead(sign1.payload.length) + sign1.payload.length,
  };
  const counted = Object.values(parts).reduce((sum, size) => sum + size, 0);
  parts.framing = bytes.length - counted;
  return { parts, payload: sign1.payload };
}

function cwtReport(token) {
  const bytes = base64urlDecode(token);
  const { parts, payload } = coseParts(bytes);
  const chars = Object.fromEntries(
    Object.entries(parts).map(([name, size]) => [name, (size * 4) / 3]),
  );
  return { length: token.length, chars, payloadBytes: payload.length, bytes: bytes.length };
}

function jwtReport(token) {
  const [headerText, payloadText, signatureText] = token.split('.');
  const header = JSON.parse(new TextDecoder().decode(base64urlDecode(headerText)));
  const memberChars = (name) =>
    name in header
      ? ((JSON.stringify(name).length + 1 + JSON.stringify(header[name]).length + 1) * 4) / 3
      : 0;
  const chars = {
    signature: signatureText.length + 1,
    kid: memberChars('kid'),
    typ: memberChars('typ'),
    alg: memberChars('alg'),
    certificate: memberChars('crt'),
    claims: payloadText.length + 1,
  };
  const counted = Object.values(chars).reduce((sum, size) => sum + size, 0);
  chars.framing = token.length - counted;
  const payload = base64urlDecode(payloadText);
  const claimNames = Object.keys(JSON.parse(new TextDecoder().decode(payload)));
  return { length: token.length, chars, payloadBytes: payload.length, claimNames };
}

const PART_NAMES = ['signature', 'kid', 'typ', 'alg', 'certificate', 'claims', 'framing'];

function breakdownTable(columns) {
  const rows = [
    `| part | ${columns.map(([title]) => title).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const part of PART_NAMES) {
    rows.push(
      `| ${part} | ${columns.map(([, report]) => Math.round(report.chars[part])).join(' | ')} |`,
    );
  }
  rows.push(`| **total** | ${columns.map(([, report]) => `**${report.length}**`).join(' | ')} |`);
  return rows.join('\n');
}

function sizeFigure(name, cwt, jwt, why) {
  return {
    group: 'size',
    issue: 9,
    name,
    ours: { what: 'CWT, base64url', value: cwt.length },
    baseline: { what: 'JWT, compact', value: jwt.length },
    unit: 'characters',
    ratio: { median: cwt.length / jwt.length },
    goal: { op: '<=', value: 0.5 },
    why,
    command: COMMAND,
  };
}

const round = (chars) => Math.round(chars);
const headerChars = (report) => report.chars.alg + report.chars.typ + report.chars.kid;

/** One line on where a pair's characters go. */
function whyLine(cwt, jwt) {
  const certificate = cwt.chars.certificate > 0;
  // What ≤ 0.5× leaves for everything but the signature, the kid and the text both carry.
  return (
    `the fixed parts barely shrink in CBOR: signature ${round(cwt.chars.signature)} vs ` +
    `${round(jwt.chars.signature)} characters, kid ${round(cwt.chars.kid)} vs ${round(jwt.chars.kid)}` +
    (certificate
      ? ` (none in the CWT: the certificate names the key); the certificate ${round(cwt.chars.certificate)} vs ${round(jwt.chars.certificate)}`
      : '') +
    `; header (alg, typ, kid) ${round(headerChars(cwt))} vs ${round(headerChars(jwt))}; ` +
    `claims ${round(cwt.chars.claims)} vs ${round(jwt.chars.claims)} ` +
    `(${(cwt.chars.claims / jwt.chars.claims).toFixed(2)}×). ` +
    (certificate
      ? ''
      : 'Since 0.3 a bare CWT names no key (the verifier tries the keys it trusts directly; ' +
        '`issue(…, { kid: true })` adds the 47 characters back) and carries a store license ' +
        'id (lic_ + 16 random bytes) as its bytes: the 64-byte signature (88 characters) is ' +
        `${round(cwt.chars.signature)} of the ${Math.floor(jwt.length / 2)} characters 0.5× allows, ` +
        'and the other text of the claims (vendor, product, plan, names) is the same in both encodings.')
  );
}

/** UTF-8 bytes of every text string in a decoded CBOR value (map keys included). */
function textBytes(value) {
  if (typeof value === 'string') return new TextEncoder().encode(value).length;
  if (value instanceof Map) {
    let sum = 0;
    for (const [key, member] of value) sum += textBytes(key) + textBytes(member);
    return sum;
  }
  return Array.isArray(value) ? value.reduce((sum, item) => sum + textBytes(item), 0) : 0;
}

function claimsNote(cwt, jwt, payload) {
  const text = textBytes(payload);
  return (
    `Claims alone: CBOR ${cwt.payloadBytes} B against JSON ${jwt.payloadBytes} B ` +
    `(${(cwt.payloadBytes / jwt.payloadBytes).toFixed(2)}×). ${text} B of them are text that is ` +
    'the same in both encodings (vendor, license id, product, plan, entitlement and quota names); ' +
    `the rest, names of claims, numbers and structure, is ${cwt.payloadBytes - text} B against ` +
    `${jwt.payloadBytes - text} B (${((cwt.payloadBytes - text) / (jwt.payloadBytes - text)).toFixed(2)}×).`
  );
}

export async function benchSize(fixtures) {
  const { tokens } = fixtures;
  const cwtCertified = cwtReport(tokens.cwt.certified);
  const cwtBare = cwtReport(tokens.cwt.bare);
  const jwtStore = jwtReport(tokens.jwt.certified);
  const jwtBare = jwtReport(tokens.jwt.bare);
  const figures = [
    sizeFigure(
      'size, as issued by the reference store (an issuer certificate of its own format embedded)',
      cwtCertified,
      jwtStore,
      whyLine(cwtCertified, jwtStore),
    ),
    sizeFigure('size, bare (no certificate)', cwtBare, jwtBare, whyLine(cwtBare, jwtBare)),
    {
      ...sizeFigure('size, claims only: CBOR payload vs JSON payload', cwtBare, jwtBare),
      ours: { what: 'CBOR payload (bytes)', value: cwtBare.payloadBytes },
      baseline: { what: 'JSON payload (bytes)', value: jwtBare.payloadBytes },
      unit: 'bytes',
      ratio: { median: cwtBare.payloadBytes / jwtBare.payloadBytes },
      goal: undefined,
    },
  ];
  const payload = decodeDocument(tokens.cwt.bare, 'license').payload;
  const bundles = await measure();
  figures.push(...bundles.oneFile.map((bundle) => bundleFigure(bundle, bundles.entries)));
  const details = [
    '### Where the characters go (figure 4)',
    '',
    `The typical license: ${jwtBare.claimNames.length} claims (${jwtBare.claimNames.join(', ')}), ` +
      `quotas ${Object.keys(fixtures.claims.quota).join(' and ')}, entitlements ${fixtures.claims.ent.join(', ')}. ` +
      'Characters of the text form per part; CWT parts at 4/3 characters per byte.',
    '',
    breakdownTable([
      ['CWT bare', cwtBare],
      ['JWT bare', jwtBare],
      ['CWT + CWT cert (store)', cwtCertified],
      ['JWT + JWT cert (store)', jwtStore],
    ]),
    '',
    claimsNote(cwtBare, jwtBare, payload),
    '',
    '### One-file bundles: what takes the bytes',
    '',
    ...bundles.oneFile.map(
      (bundle) =>
        `${bundle.entry} (${bundle.gzip} B min+gzip): ` +
        bundle.contributors
          .slice(0, 8)
          .map(({ input, minified }) => `${input.replace(/^packages\//, '')} ${minified} B`)
          .join(', ') +
        ' (minified bytes).',
    ),
  ].join('\n');
  return { figures, details };
}

/**
 * Issue 9: the one-file bundle an app's build makes of a verifier entry (esbuild --bundle
 * --minify --format=esm --platform=browser, no splitting), against the split prebuilt file
 * (entry + static chunks), with its goal in bytes.
 */
function bundleFigure(bundle, splitEntries) {
  const split = splitEntries.find((entry) => entry.entry === bundle.entry);
  const compact = bundle.entry.includes('compact');
  return {
    group: 'size',
    issue: 9,
    name: `one-file bundle, ${compact ? 'compact' : 'full'} entry (min+gzip)`,
    ours: { what: `esbuild --bundle --minify, no splitting: ${bundle.entry}`, value: bundle.gzip },
    baseline: { what: 'the split prebuilt file + its static chunks', value: split.gzip },
    unit: 'bytes',
    ratio: { median: bundle.gzip / split.gzip },
    goal: { op: '<=', value: bundle.goal, of: 'rate' },
    why: compact
      ? 'without noble (now opt-in, @licensekit/verifier/noble) the bundle is the strict decoders ' +
        '(COSE, CBOR, base64url), claim validation, trust, arithmetic and messages: ' +
        'no part above 3 KB minified; see "what takes the bytes" below'
      : 'the log proofs are opt-in now (@licensekit/verifier/log-proofs), but every other lazily ' +
        'loaded feature is inlined without splitting: refresh (≈ 3.4 KB minified), revocation ' +
        'lists (≈ 3 KB) and the JWT path (json.ts, jws.ts ≈ 6.7 KB); format 0.3 (kidless bare ' +
        'licenses, ids as bytes) and the one-pass claim validator added ≈ 0.4 KB gzip',
    command: COMMAND,
  };
}
