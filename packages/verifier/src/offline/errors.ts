import { ConfigError } from '@licensekit/core';
import type { VerifyResult } from '../result.js';

/**
 * A refresh request (or an activation that names the token held) was asked for a token
 * this verifier cannot vouch for: not a license, not signed by a trusted key, or for
 * another product. The request would name a license the app does not hold, so none is
 * written. A ConfigError (code `ERR_CONFIG`): the caller passed the wrong token.
 * `result` is the check that refused it.
 */
export class UnusableTokenError extends ConfigError {
  readonly result: VerifyResult;
  constructor(result: VerifyResult) {
    super(
      `an offline request needs a license token of this product signed by a trusted key; this one is ${result.status} (${result.reason})`,
    );
    this.result = result;
  }
}
