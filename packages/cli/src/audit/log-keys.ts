/**
 * The log verifier keys an auditor trusts, `<origin>+<key id>+<base64 key>` (C2SP signed
 * note; `log.key` of the store's `GET /v1/keys`). Given on the command line, or in a file
 * (`@FILE`, or a path): one key a line with `#` comments as `verify --log-key` reads them,
 * or a saved copy of the store's keys.json. The auditor brings them: the export's own
 * keys.json is part of what is audited, so a key is never taken from there.
 */
import { parseStrictJson } from '@licensekit/core';
import { type NoteVerifierKey, parseVerifierKey } from '@licensekit/core/log';
import { UsageError } from '../lib/errors.js';
import { fileExists, readTextFile } from '../lib/files.js';

function keysInFile(content: string): string[] {
  if (content.trimStart().startsWith('{')) {
    try {
      const keys = parseStrictJson(content) as { log?: { key?: unknown } };
      if (typeof keys.log?.key === 'string') return [keys.log.key];
    } catch {
      // Not JSON after all: read it as lines.
    }
  }
  return content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** @throws UsageError for a missing flag, an unreadable file or a malformed key */
export async function readLogKeys(values: readonly string[]): Promise<NoteVerifierKey[]> {
  if (values.length === 0) {
    throw new UsageError(
      "--log-key KEY is required: the store's log verifier key (log.key of GET /v1/keys, saved when you first trusted the store), or @FILE holding it",
    );
  }
  const texts: string[] = [];
  for (const value of values) {
    const text = value.trim();
    // A key always has a '+'; a path usually not.
    const file = text.startsWith('@') ? text.slice(1) : text;
    if (text.startsWith('@') || (!text.includes('+') && (await fileExists(text)))) {
      texts.push(...keysInFile(await readTextFile(file, '--log-key file', 64 * 1024)));
    } else {
      texts.push(text);
    }
  }
  if (texts.length === 0) throw new UsageError('--log-key: the file holds no key');
  return Promise.all(
    texts.map(async (text) => {
      try {
        return await parseVerifierKey(text);
      } catch (error) {
        throw new UsageError(
          `--log-key is not a log verifier key (<origin>+<key id>+<base64 key>, as log.key of GET /v1/keys): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }),
  );
}
