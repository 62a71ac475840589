import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * The development mail server: a real SMTP server (smtp-server) on 127.0.0.1 inside the
 * store's process, used when no SMTP_URL is set on a store that only listens on loopback
 * (services/mail-settings.ts). The store sends to it over SMTP exactly as it would to a
 * real one; what arrives is parsed (mailparser) and kept in memory only — never on disk:
 * receipts carry license keys — for the dev mail page (/dev/mail) and the tests.
 */

export interface ReceivedMail {
  /** An id for the dev page's URL (random; not the Message-ID). */
  id: string;
  receivedAt: Date;
  messageId: string | undefined;
  from: string;
  to: string;
  subject: string;
  text: string;
  /** The HTML part as received (the dev page shows it escaped, as source). */
  html: string | undefined;
  /** Every header line, for checks such as Auto-Submitted. */
  headers: Map<string, string>;
}

/** Mails kept, newest last; older ones are dropped. */
const KEEP = 200;
const MAX_MESSAGE_BYTES = 1024 * 1024;

export class DevMailServer {
  readonly #received: ReceivedMail[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(
    private readonly server: SMTPServer,
    /** The port it listens on, on 127.0.0.1. */
    readonly port: number,
  ) {}

  static async start(): Promise<DevMailServer> {
    let inbox: DevMailServer | undefined;
    const server = new SMTPServer({
      // Loopback only and no credentials: nothing to encrypt or authenticate on 127.0.0.1.
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      banner: 'licensekit development mail server',
      size: MAX_MESSAGE_BYTES,
      rejectOversized: true,
      logger: false,
      closeTimeout: 1000,
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            inbox?.keep(parsed);
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A broken client connection is the client's problem; it must not end the store.
    server.on('error', () => undefined);
    inbox = new DevMailServer(server, (server.server.address() as AddressInfo).port);
    return inbox;
  }

  private keep(parsed: Awaited<ReturnType<typeof simpleParser>>): void {
    const headers = new Map<string, string>();
    for (const line of parsed.headerLines) headers.set(line.key, line.line);
    this.#received.push({
      id: randomBytes(9).toString('base64url'),
      receivedAt: new Date(),
      messageId: parsed.messageId,
      from: parsed.from?.text ?? '',
      to: addressText(parsed.to),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : undefined,
      headers,
    });
    if (this.#received.length > KEEP) this.#received.shift();
    for (const wake of this.#waiters) wake();
  }

  /** Every mail kept, oldest first. */
  messages(): readonly ReceivedMail[] {
    return this.#received;
  }

  message(id: string): ReceivedMail | undefined {
    return this.#received.find((mail) => mail.id === id);
  }

  /** Resolves with the first kept mail that matches, waiting up to `timeoutMs` for it. */
  async waitFor(
    matches: (mail: ReceivedMail) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedMail> {
    const found = () => this.#received.find(matches);
    const now = found();
    if (now) return now;
    return new Promise((resolve, reject) => {
      const check = () => {
        const mail = found();
        if (!mail) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(mail);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching mail arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function addressText(to: { text: string } | { text: string }[] | undefined): string {
  if (to === undefined) return '';
  return Array.isArray(to) ? to.map((entry) => entry.text).join(', ') : to.text;
}
