/**
 * A progress bar on stderr, for people watching a long audit: redrawn in place at most ten
 * times a second, and only on a terminal (a pipe or a log file would fill with carriage
 * returns). `--json` turns it off, so machine output stays silent on both streams.
 */
const WIDTH = 30;
const INTERVAL_MS = 100;

export interface Progress {
  update(done: number): void;
  finish(): void;
}

export const silentProgress: Progress = { update: () => undefined, finish: () => undefined };

export function progressBar(
  total: number,
  write: (text: string) => void,
  label = 'auditing',
): Progress {
  let drawn = 0;
  let shown = false;
  const draw = (done: number) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
    write(
      `\r${label} ${bar} ${String(Math.floor(ratio * 100)).padStart(3)}%  ${done}/${total} entries`,
    );
    shown = true;
  };
  return {
    update(done) {
      const now = Date.now();
      if (now - drawn < INTERVAL_MS) return;
      drawn = now;
      draw(done);
    },
    finish() {
      // Clear the line, so the report starts on a clean one.
      if (shown) write('\r\x1b[2K');
    },
  };
}
