import { Type } from 'typebox';

/** Tree sizes and indices: non-negative safe integers. */
export const LogSize = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** A proof bundle (core's LogProofBundle): what a client keeps beside its token, offline. */
export const LogProofBundle = Type.Object({
  index: LogSize,
  treeSize: LogSize,
  inclusion: Type.Array(Type.String(), { description: 'RFC 9162 inclusion proof, padded base64' }),
  checkpoint: Type.String({ description: 'c2sp.org/tlog-checkpoint in a signed note' }),
});

/** `logProof: true` in a token request asks for the token's bundle in the answer. */
export const LogProofFlag = Type.Optional(
  Type.Boolean({
    description:
      "Also answer the token's issuance-log proof bundle (`logProof`), under a checkpoint made on demand if needed.",
  }),
);
