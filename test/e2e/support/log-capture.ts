import { Writable } from 'node:stream';
import { REDACTED_HEADERS } from '../../../packages/store/src/index.js';

/**
 * Logger options for a store started in the test: JSON lines at `info`, redacted as the
 * server's own logger redacts them, pushed into `lines` so the test can check that no
 * license key or secret ever reaches a log.
 */
export function capturedLogs(lines: string[]) {
  return {
    level: 'info',
    redact: { paths: REDACTED_HEADERS, censor: '[redacted]' },
    stream: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  };
}
