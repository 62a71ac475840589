import { Writable } from 'node:stream';

/**
 * Log lines for a person at a terminal. The store logs JSON (pino), which is what log
 * shippers want and what a person reading a terminal does not: on a TTY each line becomes
 * `12:04:05 INFO  message  key=value …`, coloured by level. Off a TTY nothing changes.
 * Redaction happens in pino before a line reaches this stream, so nothing secret can
 * appear here that the JSON would not have shown.
 */

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '90' },
  30: { name: 'INFO ', colour: '32' },
  40: { name: 'WARN ', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '35' },
};

/** Members every line has, shown in the prefix or not at all. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

function value(item: unknown): string {
  if (typeof item === 'string') return /\s/.test(item) || item === '' ? JSON.stringify(item) : item;
  return JSON.stringify(item) ?? String(item);
}

/** One JSON log line as a readable line; a line that is not JSON is passed through. */
export function readableLine(line: string, colour: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null) return line;
  const level = LEVELS[record.level as number] ?? { name: String(record.level), colour: '0' };
  const time =
    typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 19) : '';
  const extras = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, item]) => {
      if (key === 'err' && typeof item === 'object' && item !== null) {
        const error = item as { type?: string; message?: string; stack?: string };
        return `\n  ${error.stack ?? `${error.type ?? 'Error'}: ${error.message ?? ''}`}`;
      }
      return `${key}=${value(item)}`;
    });
  const name = colour ? `\u001b[${level.colour}m${level.name}\u001b[0m` : level.name;
  return `${time} ${name} ${String(record.msg ?? '')}${extras.length ? `  ${extras.join(' ')}` : ''}`;
}

/** A stream for pino that writes readable lines to `out`. */
export function readableLogStream(out: NodeJS.WritableStream & { isTTY?: boolean }): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line !== '') out.write(`${readableLine(line, out.isTTY === true)}\n`);
      }
      done();
    },
  });
}
