/**
 * @licensekit/core/offline: the documents that carry an activation or refresh between a
 * machine that never goes online and the store — a request the app writes, a response
 * the customer brings back — as checked text, files or QR code sequences. Apart from the
 * root entry so that apps that never work offline don't load it.
 */
export { MAX_OFFLINE_TEXT_LENGTH } from './envelope.js';
export { licenseKeyHint, normaliseLicenseKey } from './license-key.js';
export { joinQrParts, QR_MAX_BYTES_LEVEL_M, qrParts } from './qr-parts.js';
export type { OfflineRequest, OfflineRequestFields, OfflineRequestKind } from './request.js';
export {
  createOfflineRequest,
  OFFLINE_REQUEST_KIND,
  OFFLINE_REQUEST_TYPE,
  readOfflineRequest,
} from './request.js';
export type { OfflineResponse } from './response.js';
export {
  createOfflineResponse,
  OFFLINE_RESPONSE_KIND,
  readOfflineResponse,
} from './response.js';
