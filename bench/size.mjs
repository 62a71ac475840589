/**
 * Issue 2, figure 4: the length of a typical license in its text form, CWT against JWT,
 * and where the characters go. Sizes are exact, so this is one measurement, not a run.
 * CWT parts are attributed 4/3 characters per byte (base64url runs across part
 * boundaries); JWT parts are counted in their own segments, header members at 4/3 of
 * their JSON bytes.
 */
import { base64urlDecode, decodeCoseSign1, decodeDocument } from '../packages/core/dist/index.js';

const COMMAND = 'pnpm bench size';
const HEADER = { alg: 1, kid: 4, typ: 16, certificate: -65537 };
/** A CoAP content-format (RFC 7252 §12.3) from the first-come range is a uint16: 3 bytes. */
const CONTENT_FORMAT_BYTES = 3;

const base64urlLength = (bytes) => Math.ceil((bytes * 4) / 3);

/** Bytes of a CBOR head (RFC 8949 §3) for an argument of this size. */
function cborHead(argument) {
  if (argument < 24) return 1;
  if (argument < 256) return 2;
  if (argument < 65_536) return 3;
  return argument < 2 ** 32 ? 5 : 9;
}

/** Bytes of an integer label: major type 0 or 1 with the magnitude as argument. */
const cborLabel = (label) => cborHead(label < 0 ? -1 - label : label);

/** Byte counts of the parts of a COSE_Sign1, and of what the two proposals would save. */
function coseParts(bytes) {
  const sign1 = decodeCoseSign1(bytes);
  const header = sign1.protectedHeader;
  const member = (label, valueBytes) =>
    header.has(label) ? cborLabel(label) + cborHead(valueBytes) + valueBytes : 0;
  const typ = new TextEncoder().encode(header.get(HEADER.typ) ?? '').length;
  const certificate = header.get(HEADER.certificate);
  const parts = {
    signature: cborHead(64) + sign1.signature.length,
    kid: member(HEADER.kid, header.get(HEADER.kid)?.length ?? 0),
    typ: member(HEADER.typ, typ),
    alg: cborLabel(HEADER.alg) + 1,
    certificate: certificate ? member(HEADER.certificate, certificate.length) : 0,
    claims: cborHead(sign1.payload.length) + sign1.payload.length,
  };
  const counted = Object.values(parts).reduce((sum, size) => sum + size, 0);
  parts.framing = bytes.length - counted;
  // typ as a content-format number; the kid dropped when a certificate names the key.
  let saving = parts.typ - (cborLabel(HEADER.typ) + CONTENT_FORMAT_BYTES);
  if (certificate) {
    saving += parts.kid;
    saving += coseParts(certificate).saving;
  }
  return { parts, saving, payload: sign1.payload };
}

function cwtReport(token) {
  const bytes = base64urlDecode(token);
  const { parts, saving, payload } = coseParts(bytes);
  const chars = Object.fromEntries(
    Object.entries(parts).map(([name, size]) => [name, (size * 4) / 3]),
  );
  return { length: token.length, chars, payloadBytes: payload.length, saving, bytes: bytes.length };
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
    issue: 2,
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

/** One line on where a pair's characters go and what the two proposals would make of it. */
function whyLine(cwt, jwt) {
  const certificate = cwt.chars.certificate > 0;
  const closed = base64urlLength(cwt.bytes - cwt.saving);
  return (
    `the fixed parts barely shrink in CBOR: signature ${round(cwt.chars.signature)} vs ` +
    `${round(jwt.chars.signature)} characters, kid ${round(cwt.chars.kid)} vs ${round(jwt.chars.kid)}, ` +
    `typ ${round(cwt.chars.typ)} vs ${round(jwt.chars.typ)} (the RFC 9596 media type ` +
    `"application/lic+cwt" against "lic+jwt"), so the header (alg, typ, kid) is ` +
    `${round(headerChars(cwt))} characters in CWT against only ${round(headerChars(jwt))} in JWT` +
    (certificate
      ? `; the certificate ${round(cwt.chars.certificate)} vs ${round(jwt.chars.certificate)}`
      : '') +
    `; claims ${round(cwt.chars.claims)} vs ${round(jwt.chars.claims)} ` +
    `(${(cwt.chars.claims / jwt.chars.claims).toFixed(2)}×). Closing it: typ as a registered CoAP ` +
    `content-format number${certificate ? ', and no kid where a certificate names the key' : ''} ` +
    `would make the CWT ≈${closed} characters, ${(closed / jwt.length).toFixed(2)}×.`
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
  ].join('\n');
  return { figures, details };
}
