import type { OfflinePreview } from '../services/offline-activation.js';
import { formatCount, time } from './format.js';
import type { SafeHtml } from './html.js';
import { attrs, html, raw } from './html.js';
import type { FieldError } from './layout.js';
import { describedBy, errorSummary, fieldError, layout } from './layout.js';

/**
 * The portal's offline activation: the customer brings the request their air-gapped
 * machine wrote (pasted, as its file, or as a picture of its QR codes), sees what
 * answering it will do, confirms, and takes the response back to the machine (as text,
 * as a file, or as QR codes to scan). Every form posts the session's CSRF token.
 */

export const OFFLINE_PATH = '/portal/license/offline';
export const RESPONSE_FILE_NAME = 'licensekit-response.txt';

export function responsePath(requestHash: string): string {
  return `${OFFLINE_PATH}/responses/${requestHash}`;
}

interface PageBase {
  vendor: string;
  csrfToken: string;
  productName: string;
  test: boolean;
}

/** A short thumbprint, as the license page shows device keys (the whole one on hover). */
function shortKey(thumbprint: string): SafeHtml {
  return html`<code title="${thumbprint}">${thumbprint.slice(0, 12)}…</code>`;
}

/** The form: paste the request, or choose its file, or pictures of its QR codes. */
export function offlineRequestPage(
  options: PageBase & { errors: FieldError[]; pasted?: string | undefined },
): SafeHtml {
  const { errors } = options;
  return layout({
    title: 'Activate a device offline',
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    hasErrors: errors.length > 0,
    body: html`<h1>Activate a device offline</h1>
<p>For a computer that is never online: your ${options.productName} app shows an <strong>offline request</strong> (a text starting with <code>LK1-REQ</code>, a file, or QR codes). Bring it here; the next page shows what it asks for before anything happens.</p>
${errorSummary(errors)}
<form method="post" action="${OFFLINE_PATH}" enctype="multipart/form-data" novalidate data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<div class="field">
<label for="request">Paste the request</label>
<span class="hint" id="request-hint">Line breaks and spaces do not matter.</span>
${fieldError(errors, 'request')}
<textarea${attrs({
      id: 'request',
      name: 'request',
      rows: 6,
      cols: 30,
      spellcheck: 'false',
      autocomplete: 'off',
      autocapitalize: 'off',
      ...describedBy(errors, 'request', 'request-hint'),
    })}>${options.pasted ?? ''}</textarea>
</div>
<div class="field">
<label for="requestFile">Or choose the request file</label>
<span class="hint" id="requestFile-hint">The text file your app saved.</span>
${fieldError(errors, 'requestFile')}
<input${attrs({
      type: 'file',
      id: 'requestFile',
      name: 'requestFile',
      accept: '.txt,text/plain',
      ...describedBy(errors, 'requestFile', 'requestFile-hint'),
    })}>
</div>
<div class="field">
<label for="qrImages">Or choose photos or screenshots of its QR codes</label>
<span class="hint" id="qrImages-hint">PNG or JPEG. Several codes may be in one picture or in several pictures.</span>
${fieldError(errors, 'qrImages')}
<input${attrs({
      type: 'file',
      id: 'qrImages',
      name: 'qrImages',
      accept: 'image/png,image/jpeg',
      multiple: true,
      ...describedBy(errors, 'qrImages', 'qrImages-hint'),
    })}>
</div>
<div class="actions"><button type="submit">Continue</button> <a href="/portal/license">Back to your license</a></div>
</form>`,
  });
}

function whatItDoes(preview: OfflinePreview): SafeHtml {
  if (preview.answered) {
    return html`This request was answered before: confirming shows the same response again. Nothing changes.`;
  }
  if (preview.kind === 'refresh') {
    return html`Refresh: a new license token for this device. No seat changes.`;
  }
  if (preview.device) {
    return html`Activate a device that is already active: it keeps its seat and gets a new license token.`;
  }
  return html`Activate a new device: it takes one of your seats (${formatCount(preview.seatsInUse)} of ${formatCount(preview.seats)} in use now, ${formatCount(preview.seatsInUse + 1)} after).`;
}

/** What answering the request will do, and the Confirm form. */
export function offlinePreviewPage(
  options: PageBase & { preview: OfflinePreview; requestText: string },
): SafeHtml {
  const { preview } = options;
  return layout({
    title: 'Review the offline request',
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body: html`<h1>Review the offline request</h1>
<dl class="summary">
<dt>What it does</dt><dd id="offline-effect">${whatItDoes(preview)}</dd>
<dt>Device key</dt><dd>${shortKey(preview.thumbprint)}</dd>
${preview.device && html`<dt>Device</dt><dd>${preview.device.name || 'Unnamed device'}</dd>`}
<dt>Request made</dt><dd>${time(preview.requestedAt)} (by the device’s clock)</dd>
</dl>
<h2 id="reported-usage">Usage it reports</h2>
${
  preview.usage.length === 0
    ? html`<p>The request reports no usage.</p>`
    : html`<div class="table-scroll" role="region" aria-labelledby="usage-caption" tabindex="0"><table>
<caption id="usage-caption">Use counted on the device, recorded when you confirm</caption>
<thead><tr><th scope="col">Quota</th><th scope="col">Used</th><th scope="col">Since</th></tr></thead>
<tbody>
${preview.usage.map(
  (
    entry,
  ) => html`<tr><th scope="row">${entry.quota}</th><td class="meter">${formatCount(entry.used)}</td><td>${time(entry.window)}</td></tr>
`,
)}
</tbody>
</table></div>`
}
<form method="post" action="${OFFLINE_PATH}/confirm" data-submit-once>
<input type="hidden" name="csrf" value="${options.csrfToken}">
<input type="hidden" name="request" value="${options.requestText}">
<div class="actions"><button type="submit">Confirm and get the response</button> <a href="${OFFLINE_PATH}">Use another request</a></div>
</form>`,
  });
}

/**
 * The response: as text to copy, as a file, and as QR codes. The SVGs are the store's own
 * markup (lib/qr.ts draws them from the response text), so they are inserted as they are.
 */
export function offlineResponsePage(
  options: PageBase & {
    kind: 'activate' | 'refresh';
    response: string;
    requestHash: string;
    qr: string[];
  },
): SafeHtml {
  const { qr } = options;
  return layout({
    title: 'Your offline response',
    vendor: options.vendor,
    testMode: options.test,
    signedIn: { csrfToken: options.csrfToken },
    body: html`<h1>Your offline response</h1>
<div class="notice" role="status">${options.kind === 'refresh' ? 'The device’s license is refreshed.' : 'The device is activated.'} Bring this response to it: the app checks the license inside before it installs it.</div>
<h2 id="response-text">As text</h2>
<p class="hint">Type or paste it into the app.</p>
<p><code id="offline-response">${options.response}</code></p>
<p class="actions"><button type="button" class="secondary" data-copy="offline-response" data-status="copy-status" hidden>Copy the response</button> <span id="copy-status" role="status"></span></p>
<h2 id="response-file">As a file</h2>
<p><a href="${responsePath(options.requestHash)}/file" download="${RESPONSE_FILE_NAME}">Download ${RESPONSE_FILE_NAME}</a> and copy it to the device (a USB stick, for example).</p>
<h2 id="response-qr">As QR code${qr.length > 1 && 's'}</h2>
<p class="hint">${qr.length > 1 ? `Scan all ${qr.length} codes with the app, in any order.` : 'Scan it with the app.'}</p>
${qr.map(
  (svg, index) => html`<figure>
${raw(svg)}
${qr.length > 1 && html`<figcaption>Code ${index + 1} of ${qr.length}</figcaption>`}
</figure>
`,
)}
<p><a href="/portal/license">Back to your license</a></p>`,
  });
}
