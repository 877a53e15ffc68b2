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

/** The counter of sign-ups that waited instead of solving (the pages without JavaScript). */
export const WAITED_KEY = 'registrations-waited';
/**
 * How fast a browser solves the proof (hashes a second; 16 bits take it about two seconds): a
 * waited sign-up waits as long as solving its challenge would take, at most half its lifetime.
 */
const BROWSER_HASHES_PER_SECOND = 32_768;

/** The wait that stands in for solving a challenge of this difficulty. */
export const waitMs = (difficulty: number) =>
  Math.min(
    CHALLENGE_LIFETIME_MS / 2,
    Math.ceil((2 ** difficulty / BROWSER_HASHES_PER_SECOND) * 1000),
  );

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
    const { expiresAt, bits } = this.verify(challenge, now);
    const digest = createHash('sha256').update(proofInput(challenge, solution)).digest();
    if (leadingZeroBits(digest) < bits) throw invalid('is not solved');
    await this.claim(challenge, expiresAt, now);
  }

  /**
   * When a challenge may be spent by waiting instead of solving it (the pages without JavaScript,
   * which cannot compute): its issue time plus `waitMs` of its difficulty. Checks it is ours.
   */
  readyAt(challenge: string, now = Date.now()): number {
    const { expiresAt, bits } = this.verify(challenge, now);
    return expiresAt - CHALLENGE_LIFETIME_MS + waitMs(bits);
  }

  /**
   * Spends a challenge whose wait is over, as `spend` does a solved one (the same single use and
   * the same per-minute counts), and counts it in the tighter limit of waited sign-ups: waiting
   * costs no computation, so the instance takes fewer of them (docs/lite.md).
   */
  async spendWaited(challenge: string, waitedPerMinute: number, now = Date.now()): Promise<void> {
    if (now < this.readyAt(challenge, now)) throw invalid('was sent before its wait was over');
    const { expiresAt } = this.verify(challenge, now);
    await this.claim(challenge, expiresAt, now);
    await this.counters.limit(WAITED_KEY, waitedPerMinute, 'sign-ups without JavaScript', now);
  }

  /** The signature and expiry of a challenge, and the difficulty it was issued with. */
  private verify(challenge: string, now: number): { expiresAt: number; bits: number } {
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
    return { expiresAt, bits: Number(bits) };
  }

  /** Spends a challenge once across every process, and counts the sign-up. */
  private async claim(challenge: string, expiresAt: number, now: number): Promise<void> {
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
