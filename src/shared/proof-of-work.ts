// The registration proof of work, shared by the server (which checks it) and every client (which
// solves it): find a decimal `solution` such that SHA-256("<challenge>:<solution>") starts with
// `difficulty` zero bits (docs/security.md, "Rate limits"). Uses WebCrypto, in browsers and Node.

/** How many leading zero bits `digest` has. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The bytes hashed for one candidate solution. */
export const proofInput = (challenge: string, solution: string): Uint8Array<ArrayBuffer> =>
  new TextEncoder().encode(`${challenge}:${solution}`);

export interface ProofProgress {
  /** Candidates tried so far. */
  tried: number;
  /** Candidates expected on average for this difficulty (2^difficulty). */
  expected: number;
}

/**
 * Tries candidates 0, 1, 2… until one meets the difficulty, yielding to the event loop between
 * batches so a page stays responsive and `onProgress` can be shown. Throws if `signal` aborts.
 */
export async function solveProofOfWork(
  challenge: string,
  difficulty: number,
  options: { onProgress?: (progress: ProofProgress) => void; signal?: AbortSignal } = {},
): Promise<string> {
  const expected = 2 ** difficulty;
  const BATCH = 256;
  for (let tried = 0; ; tried += BATCH) {
    options.signal?.throwIfAborted();
    const digests = await Promise.all(
      Array.from({ length: BATCH }, (_, i) =>
        crypto.subtle.digest('SHA-256', proofInput(challenge, String(tried + i))),
      ),
    );
    const found = digests.findIndex((d) => leadingZeroBits(new Uint8Array(d)) >= difficulty);
    if (found >= 0) return String(tried + found);
    options.onProgress?.({ tried: tried + BATCH, expected });
  }
}
