/**
 * @licensekit/verifier/offline: licenses for machines that never go online. The app writes
 * an activation or refresh request (signed by its device key) as text, a file or QR codes;
 * the customer carries it to the store's portal (or the vendor's support desk answers it);
 * the app imports the response, whose token passes every check of `verify` before it is
 * installed. An entry of its own, so that apps which never work offline never load it.
 *
 * @example
 * import { createVerifier } from '@licensekit/verifier';
 * import { createActivationRequest, importOfflineResponse } from '@licensekit/verifier/offline';
 *
 * const request = await createActivationRequest(verifier, { licenseKey: typedKey });
 * show(request.text); // or requestQrCodes(request)
 * // … later, with the text the customer brings back:
 * const outcome = await importOfflineResponse(verifier, responseText);
 * if (outcome.installed) saveToken(outcome.token);
 * else showProblem(outcome.reason, outcome.message);
 */
export type { OfflineRequest, OfflineRequestKind } from '@licensekit/core/offline';
export {
  joinQrParts,
  licenseKeyHint,
  MAX_OFFLINE_TEXT_LENGTH,
  QR_MAX_BYTES_LEVEL_M,
  qrParts,
} from '@licensekit/core/offline';
export type { PendingRequest } from '../state/state.js';
export { UnusableTokenError } from './errors.js';
export type { OfflineImport, OfflineImportReason } from './import.js';
export { importOfflineResponse } from './import.js';
export { listPendingRequests } from './list.js';
export { MAX_PENDING_REQUESTS } from './pending.js';
export type { QrMatrix, QrOptions } from './qr.js';
export { requestQrCodes, requestQrMatrices, requestQrTexts } from './qr.js';
export type { ActivationRequestOptions, RefreshRequestOptions } from './request.js';
export { createActivationRequest, createRefreshRequest } from './request.js';
