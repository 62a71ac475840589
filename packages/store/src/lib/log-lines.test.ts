import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, test } from 'vitest';
import { REDACTED_HEADERS } from '../build.js';
import { readableLine, readableLogStream } from './log-lines.js';

describe('readable log lines', () => {
  test('a JSON line becomes time, level, message and the other members', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 15, 12, 4, 5),
      pid: 1,
      hostname: 'h',
      msg: 'slow request',
      reqId: 'req-1',
      note: 'two words',
    });
    expect(readableLine(line, false)).toBe(
      '12:04:05 WARN  slow request  reqId=req-1 note="two words"',
    );
    expect(readableLine(line, true)).toContain('\u001b[33mWARN \u001b[0m');
  });

  test('errors show their stack on their own lines; non-JSON passes through', () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'request failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at here' },
    });
    expect(readableLine(line, false)).toBe(
      '00:00:00 ERROR request failed  \n  Error: boom\n    at here',
    );
    expect(readableLine('plain text', false)).toBe('plain text');
  });

  test('a readable line shows no more than the JSON line would (the key stays out)', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const app = Fastify({
      logger: {
        redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
        stream: readableLogStream(out),
      },
    });
    app.log.info({ req: { headers: { authorization: 'Bearer LK-SECRET' } } }, 'incoming request');
    await new Promise((resolve) => setImmediate(resolve));
    expect(text).toContain('incoming request');
    expect(text).not.toContain('LK-SECRET');
  });
});
