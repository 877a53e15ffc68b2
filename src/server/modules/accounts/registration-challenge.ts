// Registration's answer to anonymous abuse when every visitor shares one address (Tor): each
// sign-up carries a proof of work on a challenge the server signed (HMAC with the token key).
// The difficulty rises with the registrations of the last minute, counted in the database so every
// process sees the same rate; a challenge is spent once, in the database too, so no process takes
// it twice (docs/security.md, "Rate limits").
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { leadingZeroBits, proofInput } from '../../../shared/proof-of-work.js';
import { AppError } from '../../http/errors.js';
import type { AttemptCounters } from '../../http/rate-limits.js';

/** How long a challenge may be solved and used. */
export const CHALLENGE_LIFETIME_MS = 10 * 60 * 1000;
/** The most bits the rate may add to the configured base. */
export const MAX_EXTRA_BITS = 8;
/** The counter of registrations with a valid proof, shared by the processes (one-minute windows). */
export const REGISTRATIONS_KEY = 'registrations';

export interface IssuedChallenge {
  challenge: string;
  difficulty: number;
  expiresAt: number;
}

const invalid = (why: string) =>
  new AppError(400, 'CHALLENGE_INVALID', `the registration challenge ${why}; ask for a new one`);

export class RegistrationChallenges {
  constructor(
    private readonly key: Buffer,
    private readonly counters: AttemptCounters,
    /** Zero bits asked when nobody has registered in the last minute. */
    private readonly baseBits: number,
    /** Registrations (with a valid proof) per minute for the whole instance; past it, 429. */
    private readonly perMinute: number,
  ) {}

  /** Bits asked now: the base, plus one for each doubling of the last minute's registrations. */
  async difficulty(now = Date.now()): Promise<number> {
    const recent = await this.counters.peek(REGISTRATIONS_KEY, now);
    return this.baseBits + Math.min(MAX_EXTRA_BITS, Math.floor(Math.log2(1 + recent)));
  }

  async issue(now = Date.now()): Promise<IssuedChallenge> {
    const difficulty = await this.difficulty(now);
    const expiresAt = now + CHALLENGE_LIFETIME_MS;
    const body = `${expiresAt}.${difficulty}.${randomBytes(16).toString('hex')}`;
    return { challenge: `${body}.${this.mac(body)}`, difficulty, expiresAt };
  }

  /**
   * Checks a solved challenge and spends it: 400 CHALLENGE_INVALID for a forged, expired or
   * unsolved one, 409 CHALLENGE_USED for one spent already, 429 past the instance's sign-ups per
   * minute. Cheap (one HMAC, one hash) before any key generation or Argon2 run.
   */
  async spend(challenge: string, solution: string, now = Date.now()): Promise<void> {
    const parts = challenge.split('.');
    if (parts.length !== 4) throw invalid('is malformed');
    const [expires, bits, nonce, mac] = parts as [string, string, string, string];
    const body = `${expires}.${bits}.${nonce}`;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw invalid('was not issued by this server');
    const expiresAt = Number(expires);
    if (!(expiresAt > now)) throw invalid('has expired');
    const digest = createHash('sha256').update(proofInput(challenge, solution)).digest();
    if (leadingZeroBits(digest) < Number(bits)) throw invalid('is not solved');
    const key = `challenge:${createHash('sha256').update(challenge).digest('base64url')}`;
    if (!(await this.counters.claimOnce(key, expiresAt)))
      throw new AppError(409, 'CHALLENGE_USED', 'this registration challenge was used already');
    await this.counters.limit(REGISTRATIONS_KEY, this.perMinute, 'registrations', now);
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key)
      .update(`axon-register-challenge-v1:${body}`)
      .digest('base64url');
  }
}
