/**
 * The QR encoder (the `qrcode` package) behind a module of our own, which qr.ts imports
 * on first use: in browser bundles its chunk is then named after this file, and the
 * CommonJS interop is settled in one place.
 */
import * as qrcode from 'qrcode';

type QrEncoder = typeof qrcode;

// A CommonJS module: under Node's ESM and bundlers its exports are also the default export,
// and named exports are only detected where the loader can see them.
export const qrEncoder: QrEncoder =
  (qrcode as QrEncoder & { default?: QrEncoder }).default ?? qrcode;
