/**
 * Defaults of the issuing commands (documented in the package README).
 *
 * The vendor id is the `iss` of every document. "local" marks documents made without
 * choosing one: fine for trying licensekit, and visibly not a real vendor in `inspect`.
 * `issue --cert` takes the vendor from the certificate instead, since they must match.
 */
export const DEFAULT_VENDOR = 'local';

/** The plan id when `--plan` is not given (`trial` with `--trial`). */
export const DEFAULT_PLAN = 'standard';
export const DEFAULT_TRIAL_PLAN = 'trial';
