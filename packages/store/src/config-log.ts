import { isNoteKeyName } from '@licensekit/core/log';
import { ConfigurationError } from './config.js';

/** The issuance log's settings (README "Issuance log"). */
export interface LogConfig {
  /**
   * A new checkpoint is signed at most this often, when the log has grown since the last
   * one (0: only on demand). Default 10 s: LICENSEKIT_LOG_CHECKPOINT_MS.
   */
  checkpointIntervalMs: number;
  /**
   * Documents issued are queued in their own transaction and moved into the tree by a
   * sequencer this often (0: only when a checkpoint or a proof needs it). Default 500 ms:
   * LICENSEKIT_LOG_SEQUENCE_MS.
   */
  sequenceIntervalMs: number;
  /**
   * The log's origin (the first line of every checkpoint, and the log key's name). Absent:
   * the one recorded beside the log key, or `<public host>/licensekit/log` when the key is
   * first made. LICENSEKIT_LOG_ORIGIN.
   */
  origin: string | undefined;
  /**
   * Whether issued tokens are appended. Always true in a store; `pnpm bench store` turns it
   * off for one side of its log-cost figure. Only through buildStore options: no variable.
   */
  append: boolean;
}

export interface LogInput {
  checkpointIntervalMs?: number | undefined;
  sequenceIntervalMs?: number | undefined;
  origin?: string | undefined;
  append?: boolean | undefined;
}

export function logConfig(input: LogInput = {}, env: NodeJS.ProcessEnv = process.env): LogConfig {
  const interval =
    input.checkpointIntervalMs ??
    (env.LICENSEKIT_LOG_CHECKPOINT_MS ? Number(env.LICENSEKIT_LOG_CHECKPOINT_MS) : 10_000);
  if (!Number.isInteger(interval) || interval < 0) {
    throw new ConfigurationError(
      'the log checkpoint interval is a whole number of milliseconds ≥ 0',
    );
  }
  const sequence =
    input.sequenceIntervalMs ??
    (env.LICENSEKIT_LOG_SEQUENCE_MS ? Number(env.LICENSEKIT_LOG_SEQUENCE_MS) : 500);
  if (!Number.isInteger(sequence) || sequence < 0) {
    throw new ConfigurationError('the log sequence interval is a whole number of milliseconds ≥ 0');
  }
  const origin = input.origin ?? (env.LICENSEKIT_LOG_ORIGIN || undefined);
  if (origin !== undefined && !isNoteKeyName(origin)) {
    throw new ConfigurationError('the log origin is one word without spaces, "+" or controls');
  }
  return {
    checkpointIntervalMs: interval,
    sequenceIntervalMs: sequence,
    origin,
    append: input.append ?? true,
  };
}
