/**
 * License keys as customers type them: `LK-` then Crockford base32 in groups of five. The
 * store issues them (and keeps only a keyed hash); apps need two things of a typed key
 * without ever sending it anywhere: its normal form and its hint.
 */

/** Normalises what a customer typed: case, spaces, dashes, Crockford's look-alikes. */
export function normaliseLicenseKey(input: string): string {
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  const body = (compact.startsWith('LK') ? compact.slice(2) : compact)
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return `LK-${(body.match(/.{1,5}/g) ?? []).join('-')}`;
}

/**
 * The last four characters of a key's normal form: what the portal shows beside a
 * license and an offline request carries instead of the key (20 bits of 160: it tells
 * two licenses apart, and tells nothing useful about the rest).
 */
export function licenseKeyHint(input: string): string {
  return normaliseLicenseKey(input).replace(/-/g, '').slice(-4);
}
