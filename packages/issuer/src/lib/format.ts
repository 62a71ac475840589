import { ConfigError, type TokenFormat } from '@licensekit/core';

/**
 * Checks a `format` option at run time, for callers in plain JavaScript or reading it from
 * a config file, where the type system does not help.
 * @throws ConfigError
 */
export function tokenFormat(format: unknown, fallback: TokenFormat): TokenFormat {
  if (format === undefined) return fallback;
  if (format !== 'jwt' && format !== 'cwt') {
    throw new ConfigError(`format must be "jwt" or "cwt", not ${JSON.stringify(format)}`);
  }
  return format;
}
