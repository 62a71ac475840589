import type { ReceivedMail } from '../services/mail-dev-server.js';
import { time } from './format.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { html } from './html.js';
import { layout } from './layout.js';

/**
 * The development mail page (/dev/mail): what the in-process SMTP server received. Both
 * parts are shown as text — the HTML part as its escaped source, never rendered — so a
 * mail's markup cannot run or load anything in the store's origin. Links to the store
 * itself in the text part are made clickable (a sign-in link is one click away in dev).
 */

const NOTE = html`<p class="warning" role="note">Development only: mail sent by this store goes to a mail server inside its own process and is kept in memory, not delivered. Set <code>SMTP_URL</code> to send real e-mail.</p>`;

export function devMailListPage(options: {
  vendor: string;
  mails: readonly ReceivedMail[];
}): SafeHtml {
  const title = 'Development mail';
  const newestFirst = [...options.mails].reverse();
  return layout({
    title,
    vendor: options.vendor,
    body: html`<h1>${title}</h1>
${NOTE}
${
  newestFirst.length === 0
    ? html`<p>No mail yet.</p>`
    : html`<table>
<caption>Mail received, newest first</caption>
<thead><tr><th scope="col">Received</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
<tbody>
${newestFirst.map(
  (mail) => html`<tr>
<td>${time(mail.receivedAt)}</td>
<td>${mail.to}</td>
<th scope="row"><a href="/dev/mail/${mail.id}">${mail.subject || '(no subject)'}</a></th>
</tr>
`,
)}
</tbody>
</table>`
}`,
  });
}

export function devMailPage(options: {
  vendor: string;
  publicUrl: string;
  mail: ReceivedMail;
}): SafeHtml {
  const { mail } = options;
  return layout({
    title: mail.subject || 'Mail',
    vendor: options.vendor,
    body: html`<h1>${mail.subject || '(no subject)'}</h1>
${NOTE}
<dl class="summary">
<dt>From</dt><dd>${mail.from}</dd>
<dt>To</dt><dd>${mail.to}</dd>
<dt>Received</dt><dd>${time(mail.receivedAt)}</dd>
<dt>Message-ID</dt><dd><code>${mail.messageId ?? ''}</code></dd>
</dl>
<h2>Text part</h2>
<pre class="mail-text" id="mail-text">${linkStoreUrls(mail.text, options.publicUrl)}</pre>
<h2>HTML part (source)</h2>
${
  mail.html === undefined
    ? html`<p>This mail has no HTML part.</p>`
    : html`<pre class="mail-html" id="mail-html"><code>${mail.html}</code></pre>`
}
<p><a href="/dev/mail">All mail</a></p>`,
  });
}

/** The text with every URL of the store itself as a link (other text stays text). */
function linkStoreUrls(text: string, publicUrl: string): HtmlValue[] {
  const parts: HtmlValue[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    const url = match[0];
    if (!url.startsWith(`${publicUrl}/`)) continue;
    parts.push(text.slice(last, match.index), html`<a href="${url}">${url}</a>`);
    last = match.index + url.length;
  }
  parts.push(text.slice(last));
  return parts;
}
