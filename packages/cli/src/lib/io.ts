/**
 * Where a command writes. Commands never touch process.stdout directly, so the demo can
 * run the real commands and show their output, and tests can capture it.
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input, as text. */
  readStdin(): Promise<string>;
}

export const processIo: Io = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** An Io that collects what is written (the demo shows it indented under each command). */
export function capturingIo(): Io & { text(): string } {
  let text = '';
  return {
    out: (chunk) => {
      text += chunk;
    },
    err: (chunk) => {
      text += chunk;
    },
    readStdin: async () => '',
    text: () => text,
  };
}
