import { createTransport } from 'nodemailer';
import type { OutgoingMail } from './mail-messages.js';

/**
 * Sending through Nodemailer over SMTP: to SMTP_URL, or to the development server in the
 * store's process. One connection per mail (no pool: a store sends a few mails, and a
 * broken pooled connection would fail the next one). Nodemailer's own logging stays off:
 * it would print addresses and, at debug level, message bodies with license keys.
 */

export interface MailEnvelope extends OutgoingMail {
  from: string;
  /** Stable across retries, so a receiving server or client can drop a duplicate. */
  messageId: string;
  date: Date;
}

export interface MailTransport {
  send(mail: MailEnvelope): Promise<void>;
  close(): void;
}

const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export function smtpTransport(target: { url: string } | { devPort: number }): MailTransport {
  const transporter =
    'url' in target
      ? createTransport({ url: target.url, ...TIMEOUTS, logger: false, debug: false })
      : createTransport({
          host: '127.0.0.1',
          port: target.devPort,
          secure: false,
          // The development server offers no TLS: it is on loopback, in this process.
          ignoreTLS: true,
          ...TIMEOUTS,
          logger: false,
          debug: false,
        });
  return {
    async send(mail) {
      await transporter.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        date: mail.date,
        // RFC 3834: an automatic mail, so vacation responders do not answer it.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    },
    close() {
      transporter.close();
    },
  };
}
