import { formatCount, formatDateTime } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { html } from './html.js';

/**
 * The customer e-mails: every one a text part and an HTML part saying the same thing.
 * The HTML is plain semantic markup built with the escaping `html` template — no images,
 * no external resources, no tracking of any kind, no script or style — so it reads the
 * same in any client, and every link is written out as its own text (a customer can see
 * where it goes). Links point only at the store's public URL.
 */

export interface MailContent {
  subject: string;
  text: string;
  html: SafeHtml;
}

/** What every mail says about where it comes from. */
export interface MailFrame {
  vendor: string;
  publicUrl: string;
}

/** A paragraph of both parts: text, and the same in markup. */
interface Block {
  text: string;
  html: SafeHtml;
}

function paragraph(text: string): Block {
  return { text, html: html`<p>${text}</p>` };
}

/** A paragraph with one link written out, e.g. "Sign in: https://…". */
function linked(lead: string, url: string): Block {
  return { text: `${lead}\n${url}`, html: html`<p>${lead}<br><a href="${url}">${url}</a></p>` };
}

/** A list of facts (name: value). */
function facts(entries: readonly (readonly [string, string] | false | undefined)[]): Block {
  const rows = entries.filter((entry): entry is readonly [string, string] => Boolean(entry));
  return {
    text: rows.map(([name, value]) => `${name}: ${value}`).join('\n'),
    html: html`<table role="presentation">
${rows.map(([name, value]) => html`<tr><th scope="row" align="left">${name}</th><td>${value}</td></tr>\n`)}
</table>`,
  };
}

function compose(frame: MailFrame, subject: string, heading: string, blocks: Block[]): MailContent {
  const portal = `${frame.publicUrl}/portal`;
  const footer = `You receive this e-mail because you bought a license at the ${frame.vendor} store.`;
  const text = [heading, '', ...blocks.map((block) => `${block.text}\n`), '--', footer, portal]
    .join('\n')
    .concat('\n');
  const body: HtmlValue[] = blocks.map((block) => html`${block.html}\n`);
  return {
    subject,
    text,
    html: html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${subject}</title>
</head>
<body>
<h1>${heading}</h1>
${body}<hr>
<p><small>${footer} <a href="${portal}">${portal}</a></small></p>
</body>
</html>
`,
  };
}

// ------------------------------------------------------------------ receipt

export interface ReceiptMail {
  productName: string;
  planName: string;
  planPrice: string;
  /** "$15.00", "Nothing today (free trial)" … */
  charged: string;
  orderId: string;
  statusLabel: string;
  /** The key (the first receipt); a copy sent again from the admin screen has none. */
  key: string | undefined;
  /** The key's last four characters: what a copy can say about it. */
  keyHint: string;
  test: boolean;
  seats: number | undefined;
  trialEndsAt: Date | null;
  paidUntil: Date | null;
  /** The license waits for the payment (manual or processor orders). */
  awaitingPayment: boolean;
}

/**
 * The receipt, sent once at checkout: the one mail that carries the license key. A copy
 * (re-sent by an operator, services/mail-resend.ts) cannot carry it — the store keeps only
 * a hash — and says so, with the way to a new key.
 */
export function receiptMail(frame: MailFrame, receipt: ReceiptMail): MailContent {
  const copy = receipt.key === undefined;
  const keyBlock: Block = copy
    ? paragraph(
        `This is a copy of your receipt. It cannot contain your license key (the key ending in ${receipt.keyHint}): the store keeps only a hash of it, so nobody can look it up or send it again.`,
      )
    : {
        text: `Your license key:\n\n    ${receipt.key}\n`,
        html: html`<p>Your license key:</p>
<p><code>${receipt.key}</code></p>`,
      };
  return compose(
    frame,
    copy ? `Your ${receipt.productName} receipt (copy)` : `Your ${receipt.productName} license key`,
    copy
      ? 'A copy of your receipt'
      : receipt.awaitingPayment
        ? 'Order received'
        : 'Thank you – your license is ready',
    [
      keyBlock,
      ...(copy
        ? []
        : [
            paragraph(
              'Keep this e-mail or the key somewhere safe. The store keeps only a hash of the key: nobody can look it up for you. You need it to activate your app and to sign in to the customer portal.',
            ),
          ]),
      facts([
        ['Product', receipt.productName],
        ['Plan', `${receipt.planName} (${receipt.planPrice})`],
        receipt.seats !== undefined && ['Seats', String(receipt.seats)],
        ['Charged', `${receipt.charged}${receipt.test ? ' (test payment, no money moved)' : ''}`],
        ['Order', receipt.orderId],
        ['License status', receipt.statusLabel],
        receipt.trialEndsAt !== null && ['Trial ends', formatDateTime(receipt.trialEndsAt)],
        receipt.paidUntil !== null && ['Paid until', formatDateTime(receipt.paidUntil)],
      ]),
      ...(copy
        ? []
        : [
            receipt.awaitingPayment
              ? paragraph('Your license starts when the payment is confirmed.')
              : paragraph('Your license is active now.'),
          ]),
      linked(
        copy
          ? 'If you lost the key, sign in to the customer portal with an e-mail link and replace it there (your devices stay activated):'
          : 'If you ever lose the key, sign in to the customer portal with an e-mail link and replace it:',
        `${frame.publicUrl}/portal/email`,
      ),
    ],
  );
}

// ------------------------------------------------------------------ sign-in link

export function signInLinkMail(
  frame: MailFrame,
  link: { url: string; expiresAt: Date; minutes: number },
): MailContent {
  return compose(frame, `Sign in to the ${frame.vendor} store`, 'Your sign-in link', [
    linked(
      `Open this link within ${link.minutes} minutes to sign in to the customer portal. It works once.`,
      link.url,
    ),
    paragraph(`The link expires at ${formatDateTime(link.expiresAt)}.`),
    paragraph(
      'If you did not ask for it, ignore this e-mail: nobody can sign in with your address without this link.',
    ),
  ]);
}

// ------------------------------------------------------------------ notices

export function expiringSoonMail(
  frame: MailFrame,
  notice: { productName: string; planName: string; endsAt: Date; whatNext: string },
): MailContent {
  return compose(
    frame,
    `Your ${notice.productName} license: the current period ends on ${formatDateTime(notice.endsAt)}`,
    'Your current period ends soon',
    [
      paragraph(
        `The current period of your ${notice.productName} license (${notice.planName} plan) ends on ${formatDateTime(notice.endsAt)}.`,
      ),
      paragraph(notice.whatNext),
      linked('See or change your plan in the customer portal:', `${frame.publicUrl}/portal`),
    ],
  );
}

export function quotaLowMail(
  frame: MailFrame,
  notice: {
    productName: string;
    quota: string;
    limit: number;
    used: number;
    remaining: number;
    resetsAt: Date | null;
  },
): MailContent {
  return compose(
    frame,
    `Your ${notice.productName} license: ${notice.quota} is running low`,
    `Your ${notice.quota} are running low`,
    [
      paragraph(
        `Your ${notice.productName} license has used ${formatCount(notice.used)} of its ${formatCount(notice.limit)} ${notice.quota}; ${formatCount(notice.remaining)} are left.`,
      ),
      paragraph(
        notice.resetsAt
          ? `The count starts again on ${formatDateTime(notice.resetsAt)}.`
          : 'The count runs for the whole term of the license.',
      ),
      linked('A larger plan gives you more:', `${frame.publicUrl}/portal`),
    ],
  );
}

export function paymentFailedMail(
  frame: MailFrame,
  notice: {
    productName: string;
    amount: string;
    what: string;
    statusLabel: string;
    payUrl: string;
    /**
     * The link is the portal's pay page, where that same order is paid again (a past-due
     * renewal, a pending purchase); else the storefront's plan page.
     */
    payInPortal: boolean;
  },
): MailContent {
  return compose(
    frame,
    `A payment for your ${notice.productName} license failed`,
    'A payment failed',
    [
      paragraph(
        `The payment of ${notice.amount} for ${notice.what} of your ${notice.productName} license did not go through.`,
      ),
      facts([['License status', notice.statusLabel]]),
      paragraph(
        'Your apps keep working until the token they hold expires (and through its grace period); after that they need a paid license.',
      ),
      notice.payInPortal
        ? linked(
            'To pay it now, sign in to your portal with your license key; you can use another card:',
            notice.payUrl,
          )
        : linked('To pay, choose a plan here:', notice.payUrl),
    ],
  );
}

export function planChangeMail(
  frame: MailFrame,
  notice: {
    productName: string;
    scheduled: boolean;
    /** One sentence: what changes (or changed). */
    summary: string;
    effectiveAt: Date;
    charged: string | undefined;
  },
): MailContent {
  const when = formatDateTime(notice.effectiveAt);
  return compose(
    frame,
    notice.scheduled
      ? `Your ${notice.productName} license changes on ${when}`
      : `Your ${notice.productName} license has changed`,
    notice.scheduled ? 'Your plan change is scheduled' : 'Your plan has changed',
    [
      paragraph(notice.summary),
      facts([
        [notice.scheduled ? 'Takes effect' : 'Took effect', when],
        notice.charged !== undefined && ['Charged', notice.charged],
      ]),
      notice.scheduled
        ? paragraph(
            'Until then you keep your current plan. You can withdraw the change in the customer portal.',
          )
        : paragraph('Your apps get the new terms with their next refresh.'),
      linked('Customer portal:', `${frame.publicUrl}/portal`),
    ],
  );
}

export function keyReplacedMail(
  frame: MailFrame,
  notice: { productName: string; keyHint: string; replacedAt: Date },
): MailContent {
  return compose(
    frame,
    `The license key of your ${notice.productName} license was replaced`,
    'Your license key was replaced',
    [
      paragraph(
        `On ${formatDateTime(notice.replacedAt)} the license key of your ${notice.productName} license was replaced in the customer portal. The new key ends in ${notice.keyHint}; the old key no longer works. Activated devices stay activated and keep refreshing.`,
      ),
      linked(
        'If you did not do this, sign in with an e-mail link at once and replace the key again:',
        `${frame.publicUrl}/portal/email`,
      ),
    ],
  );
}
