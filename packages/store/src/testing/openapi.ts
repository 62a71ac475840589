import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';

/**
 * The store's OpenAPI document as test data: its operations, a valid sample for every
 * request schema, and a small validator for the JSON Schema subset TypeBox writes there.
 * The fuzz tests use the validator as their oracle — a request the document refuses must be
 * answered 400 — so it states the keywords the way Ajv (Fastify's validator) reads them:
 * string lengths in code points, patterns as Unicode regular expressions, no coercion.
 */

export type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

export interface JsonSchema {
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  format?: string;
  $ref?: string;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: JsonSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Operation {
  /** Upper case, as Fastify lists it. */
  method: string;
  /** The OpenAPI path template, `/v1/admin/orders/{orderId}`. */
  path: string;
  /** The Fastify route pattern, `/v1/admin/orders/:orderId`. */
  pattern: string;
  parameters: OpenApiParameter[];
  /** The JSON body's schema, when the operation takes one. */
  body?: JsonSchema;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** The document the store serves at GET /docs. */
export async function openApiDocument(app: FastifyInstance): Promise<OpenApiDocument> {
  const response = await app.inject({ method: 'GET', url: '/docs' });
  if (response.statusCode !== 200) throw new Error(`GET /docs answered ${response.statusCode}`);
  return response.json() as OpenApiDocument;
}

/** Every operation of the document, with `$ref`s resolved. */
export function listOperations(document: OpenApiDocument): Operation[] {
  const resolve = (schema: JsonSchema): JsonSchema => resolveRefs(schema, document);
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const json = operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pattern: path.replace(/\{([^}]+)\}/g, ':$1'),
        parameters: (operation.parameters ?? []).map((parameter) => ({
          ...parameter,
          schema: resolve(parameter.schema ?? {}),
        })),
        ...(json ? { body: resolve(json) } : {}),
      });
    }
  }
  return operations;
}

function resolveRefs(schema: JsonSchema, document: OpenApiDocument, depth = 0): JsonSchema {
  if (depth > 32) throw new Error('the document nests $ref deeper than 32');
  if (schema.$ref) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : document.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
    return resolveRefs(target, document, depth + 1);
  }
  const out: JsonSchema = { ...schema };
  const sub = (s: JsonSchema) => resolveRefs(s, document, depth + 1);
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, s]) => [name, sub(s)]),
    );
  }
  if (typeof schema.additionalProperties === 'object')
    out.additionalProperties = sub(schema.additionalProperties);
  if (schema.items) out.items = sub(schema.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[key];
    if (list) out[key] = list.map(sub);
  }
  return out;
}

/** A URL of an operation with path values filled in (percent-encoded) and a query. */
export function operationUrl(
  operation: Pick<Operation, 'path'>,
  pathValues: Record<string, string>,
  query: [string, string][] = [],
): string {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathValues[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${operation.path}`);
    return encodeURIComponent(value);
  });
  if (query.length === 0) return path;
  return `${path}?${query.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&')}`;
}

// ------------------------------------------------------------------ the validator

/** The JSON type of a value, as JSON Schema names it ("integer" for whole numbers). */
export function jsonTypeOf(value: unknown): JsonType | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : Number.isFinite(value) ? 'number' : undefined;
    case 'string':
      return 'string';
    case 'object':
      return 'object';
    default:
      return undefined;
  }
}

function typeAllowed(schema: JsonSchema, type: JsonType): boolean {
  if (schema.type === undefined) return true;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

function equalJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const patterns = new Map<string, RegExp>();
function patternOf(source: string): RegExp {
  let pattern = patterns.get(source);
  if (!pattern) {
    pattern = new RegExp(source, 'u');
    patterns.set(source, pattern);
  }
  return pattern;
}

/**
 * Whether `value` is valid against `schema`. `format` is not checked: a value this says is
 * valid may still be refused, never the other way round, so the oracle stays safe.
 */
export function validates(schema: JsonSchema, value: unknown): boolean {
  const type = jsonTypeOf(value);
  if (type === undefined) return false;
  if (!typeAllowed(schema, type)) return false;
  if (schema.enum && !schema.enum.some((option) => equalJson(option, value))) return false;
  if ('const' in schema && !equalJson(schema.const, value)) return false;
  if (schema.anyOf && !schema.anyOf.some((branch) => validates(branch, value))) return false;
  if (schema.oneOf && schema.oneOf.filter((branch) => validates(branch, value)).length !== 1)
    return false;
  if (schema.allOf && !schema.allOf.every((branch) => validates(branch, value))) return false;
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) return false;
    if (schema.maxLength !== undefined && length > schema.maxLength) return false;
    if (schema.pattern !== undefined && !patternOf(schema.pattern).test(value)) return false;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return false;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
    if (schema.uniqueItems) {
      const seen = new Set(value.map((item) => JSON.stringify(item)));
      if (seen.size !== value.length) return false;
    }
    if (schema.items && !value.every((item) => validates(schema.items!, item))) return false;
  }
  if (type === 'object') {
    const members = Object.entries(value as Record<string, unknown>);
    if (schema.minProperties !== undefined && members.length < schema.minProperties) return false;
    if (schema.maxProperties !== undefined && members.length > schema.maxProperties) return false;
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(value as object, name)) return false;
    }
    for (const [name, member] of members) {
      const declared = schema.properties && Object.hasOwn(schema.properties, name);
      if (declared) {
        if (!validates(schema.properties![name]!, member)) return false;
      } else if (schema.additionalProperties === false) {
        return false;
      } else if (typeof schema.additionalProperties === 'object') {
        if (!validates(schema.additionalProperties, member)) return false;
      }
    }
  }
  return true;
}

// ------------------------------------------------------------------ samples

/**
 * Chooses a value for a member or parameter by its name (domain values such as a real
 * product id), or undefined to let the schema decide. A hint the schema refuses is ignored.
 */
export type Hint = (name: string, schema: JsonSchema) => unknown;

/**
 * A valid value for `schema`, with every declared member present (so that every member
 * can be fuzzed), arrays of one item and maps of one entry. Strings with a pattern are
 * drawn from it with a fixed seed, so a sample is the same on every run.
 */
export function sampleValue(schema: JsonSchema, hint: Hint = () => undefined, name = ''): unknown {
  const hinted = hint(name, schema);
  if (hinted !== undefined && validates(schema, hinted)) return hinted;
  if ('const' in schema) return schema.const;
  if (schema.enum) return schema.enum[0];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    for (const branch of branches) {
      const value = sampleValue(branch, hint, name);
      if (validates(schema, value)) return value;
    }
    throw new Error(`no valid sample for the branches of ${name || 'a schema'}`);
  }
  const types = schema.type === undefined ? ['object'] : [schema.type].flat();
  switch (types[0]) {
    case 'null':
      return null;
    case 'boolean':
      return false;
    case 'integer':
    case 'number': {
      const low = schema.minimum ?? (schema.exclusiveMinimum ?? -1) + 1;
      return Math.max(low, Math.min(1, schema.maximum ?? 1));
    }
    case 'string':
      return sampleString(schema);
    case 'array': {
      if (!schema.items || schema.maxItems === 0) return [];
      return [sampleValue(schema.items, hint, name)];
    }
    default: {
      const object: Record<string, unknown> = {};
      for (const [member, memberSchema] of Object.entries(schema.properties ?? {})) {
        object[member] = sampleValue(memberSchema, hint, member);
      }
      if (
        typeof schema.additionalProperties === 'object' &&
        Object.keys(object).length === 0 &&
        schema.maxProperties !== 0
      ) {
        const entry = String(hint(`${name}[]`, schema) ?? 'entry');
        object[entry] = sampleValue(schema.additionalProperties, hint, entry);
      }
      return object;
    }
  }
}

function sampleString(schema: JsonSchema): string {
  const minLength = Math.max(schema.minLength ?? 1, 1);
  const plain = 'a'.repeat(minLength);
  if (validates(schema, plain)) return plain;
  if (schema.pattern !== undefined) {
    const pattern = patternOf(schema.pattern);
    const [drawn] = fc.sample(
      fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((candidate) => pattern.test(candidate) && validates(schema, candidate)),
      { seed: 7, numRuns: 1 },
    );
    if (drawn !== undefined) return drawn;
  }
  throw new Error(`no sample string for ${JSON.stringify(schema)}`);
}

/** One sample per top-level branch (a body that is one of several shapes), else one. */
export function sampleVariants(schema: JsonSchema, hint?: Hint): unknown[] {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return [sampleValue(schema, hint)];
  return branches.map((branch) => sampleValue(branch, hint)).filter((v) => validates(schema, v));
}

// ------------------------------------------------------------------ where to mutate

export interface Slot {
  /** JSON Pointer of a member or item in the sample. */
  pointer: string;
  /** The schema the slot's value is checked against (its first branch when a union). */
  schema: JsonSchema;
}

/** Every member and item in `value` (at any depth) with the schema it answers to. */
export function slotsOf(schema: JsonSchema, value: unknown, pointer = ''): Slot[] {
  const branch = schemaMatching(schema, value);
  const slots: Slot[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const itemSchema = branch.items ?? {};
      slots.push({ pointer: `${pointer}/${index}`, schema: itemSchema });
      slots.push(...slotsOf(itemSchema, item, `${pointer}/${index}`));
    });
  } else if (jsonTypeOf(value) === 'object') {
    for (const [name, member] of Object.entries(value as Record<string, unknown>)) {
      const memberSchema =
        branch.properties?.[name] ??
        (typeof branch.additionalProperties === 'object' ? branch.additionalProperties : {});
      const at = `${pointer}/${escapePointer(name)}`;
      slots.push({ pointer: at, schema: memberSchema });
      slots.push(...slotsOf(memberSchema, member, at));
    }
  }
  return slots;
}

/** Pointers of every object in `value` (the root included): places to add a member. */
export function objectPointers(value: unknown, pointer = ''): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => objectPointers(item, `${pointer}/${index}`));
  }
  if (jsonTypeOf(value) !== 'object') return [];
  return [
    pointer,
    ...Object.entries(value as Record<string, unknown>).flatMap(([name, member]) =>
      objectPointers(member, `${pointer}/${escapePointer(name)}`),
    ),
  ];
}

/** The branch of a union the value answers to (for walking into it), else the schema. */
function schemaMatching(schema: JsonSchema, value: unknown): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  return branches.find((branch) => validates(branch, value)) ?? branches[0] ?? schema;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Marks a member to remove in {@link withValueAt}. */
export const REMOVE: unique symbol = Symbol('remove');

/**
 * A deep copy of `root` with the value at `pointer` replaced (or removed). Members are
 * defined as own data properties, so `__proto__` is a member like any other.
 */
export function withValueAt(root: unknown, pointer: string, value: unknown): unknown {
  const copy = structuredClone(root);
  const segments = pointerSegments(pointer);
  if (segments.length === 0) return value === REMOVE ? undefined : value;
  const last = segments.pop()!;
  let parent = copy as Record<string, unknown>;
  for (const segment of segments) parent = parent[segment] as Record<string, unknown>;
  if (value === REMOVE) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    Object.defineProperty(parent, last, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

// ------------------------------------------------------------------ hostile values

const ALL_TYPES: JsonType[] = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'];

function valueOfType(type: JsonType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.oneof(fc.integer(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER));
    case 'number':
      return fc
        .double({ noNaN: true, noDefaultInfinity: true })
        .filter((n) => !Number.isInteger(n));
    case 'string':
      return fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '1', 'true', 'null'));
    case 'array':
      return fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 });
    case 'object':
      return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), {
        maxKeys: 3,
      });
  }
}

/** The JSON types the schema (with every branch of its unions) accepts somewhere. */
function acceptedTypes(schema: JsonSchema): Set<JsonType> {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return new Set(branches.flatMap((branch) => [...acceptedTypes(branch)]));
  return new Set(ALL_TYPES.filter((type) => typeAllowed(schema, type)));
}

/** Values of the JSON types the schema refuses (any JSON when it takes every type). */
export function wrongTypedValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const accepted = acceptedTypes(schema);
  const wrong = ALL_TYPES.filter(
    (type) => !accepted.has(type) && !(type === 'integer' && accepted.has('number')),
  );
  if (wrong.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.constantFrom(...wrong).chain(valueOfType);
}

/** Values of the right type just outside the schema's bounds, patterns and enums. */
export function outOfBoundsValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [];
  const types = acceptedTypes(schema);
  const bounds = [schema, ...(schema.anyOf ?? [])];
  for (const s of bounds) {
    if (s.maximum !== undefined) options.push(fc.constantFrom(s.maximum + 1, s.maximum * 2 + 1));
    if (s.minimum !== undefined) options.push(fc.constantFrom(s.minimum - 1, -(2 ** 53)));
    if (s.maxLength !== undefined)
      options.push(fc.constant('x'.repeat(Math.min(s.maxLength + 1, 70_000))));
    if (s.minLength !== undefined && s.minLength > 0)
      options.push(fc.constant('x'.repeat(s.minLength - 1)));
    if (s.pattern !== undefined) {
      const pattern = patternOf(s.pattern);
      options.push(fc.string({ maxLength: 70 }).filter((value) => !pattern.test(value)));
    }
    if (s.maxItems !== undefined && s.items) {
      options.push(fc.constant(Array.from({ length: s.maxItems + 1 }, (_, i) => `item-${i}`)));
    }
  }
  if (types.has('integer') && !types.has('number')) {
    options.push(fc.constantFrom(1.5, 2 ** 53, 1e21, -0.5, 2 ** 64));
  }
  if (types.has('string') && (schema.enum || schema.anyOf)) {
    options.push(fc.constantFrom('JWT', 'jwt ', 'other', 'null'));
  }
  if (options.length === 0) return wrongTypedValue(schema);
  return fc.oneof(...options);
}

/**
 * Strings that stress text handling without breaking the text rule: emoji and ZWJ
 * sequences, right-to-left text and overrides, combining marks stacked high, the
 * non-characters U+FFFE and U+FFFF, a byte-order mark, astral planes, decomposed accents.
 */
export const UNICODE_EDGES = [
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  'שלום',
  'مرحبا',
  '\u202e\u202dlive.exe',
  '\u200f\u200e',
  'e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a',
  'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359\u035a',
  '\uffff',
  '\ufffe',
  '\ufeff',
  '\u{10ffff}',
  '\u{1f600}\u{e0001}',
  '\u2028\u2029',
  '\u00a0\u3000',
  '🅰️',
  'ǅ',
  'İ',
  'ß',
  'ﬃ',
  '%00',
  '\\u0000',
  "'; DROP TABLE licenses; --",
  '#{7*7}{{7*7}}<%= 7*7 %>',
  '<script>alert(1)</script>',
  '../../etc/passwd',
];

/** Unicode text built from {@link UNICODE_EDGES} and any graphemes fast-check draws. */
export const unicodeText: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.constantFrom(...UNICODE_EDGES), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
);

/** A string of `codePoints` code points (more UTF-8 bytes than that), mixing the edges. */
export function overlongText(codePoints: number): string {
  const unit = [...UNICODE_EDGES.slice(0, 14).join('')];
  const parts: string[] = [];
  for (let i = 0; i < codePoints; i++) parts.push(unit[i % unit.length]!);
  return parts.join('');
}
