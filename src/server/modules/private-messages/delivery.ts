// The durable outbox of private messages to other instances (`pm-delivery` in /api/health): each
// signed message waits in `pm_outbox` until its recipient's instance answers for it. A restart or
// an unreachable peer delays it (retries with exponential backoff and jitter), never drops it; only
// the peer's refusal (or the peer's removal) ends it without delivery, and the sender sees why.
import type { AxonDatabase } from '../../db/database.js';
import type { PmDeliveryState } from '../../db/schema.js';
import { WokenService } from '../../services/woken.js';
import { FederationError, type FederationClient } from '../federation/client.js';
import type { RemoteKeys } from './remote.js';

/** Messages waiting for one peer, at most: past it, sending to that instance is refused (503). */
export const OUTBOX_PER_PEER_MAX = 1000;
/** How often the outbox is looked at besides the wake-ups (other processes' messages, retries). */
const POLL_MS = 2000;
/** A process's claim on a message while it sends it. */
const LEASE_MS = 30_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 5 * 60 * 1000;
/** Messages taken per run. */
const RUN_BATCH = 50;

/** The receiver's refusals that will not change by sending again: the message ends refused. */
const FINAL_REFUSALS = new Set([
  'VALIDATION_ERROR',
  'PM_SIGNATURE_INVALID',
  'PM_RECIPIENT_NOT_HERE',
  'PUBKEY_BANNED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
]);

export function backoffMs(attempts: number, random = Math.random()): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random / 2));
}

export class PrivateMessageDelivery extends WokenService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly client: Pick<FederationClient, 'request'>,
    private readonly keys: RemoteKeys,
    onError: (error: unknown) => void,
  ) {
    super('pm-delivery', POLL_MS, () => this.deliverDue(), onError);
  }

  /** One pass over the letters due now (what each wake-up runs). */
  async deliverDue(): Promise<void> {
    const db = this.database.db;
    const now = Date.now();
    const due = await db
      .selectFrom('pm_outbox')
      .selectAll()
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(RUN_BATCH)
      .execute();
    // A peer that failed in this run is not tried again for its other messages until their turn.
    const failedPeers = new Set<string>();
    for (const entry of due) {
      if (this.stopping) return;
      if (failedPeers.has(entry.peer_fingerprint)) continue;
      const claimed = await db
        .updateTable('pm_outbox')
        .set({ leased_until: Date.now() + LEASE_MS })
        .where('pm_id', '=', entry.pm_id)
        .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) continue;
      const outcome = await this.deliver(entry.peer_fingerprint, entry.object);
      if (outcome.kind === 'retry') {
        failedPeers.add(entry.peer_fingerprint);
        const next = Date.now() + backoffMs(entry.attempts);
        await db
          .updateTable('pm_outbox')
          .set({
            attempts: entry.attempts + 1,
            next_attempt_at: next,
            last_error: (outcome.error ?? '').slice(0, 500),
            leased_until: null,
          })
          .where('pm_id', '=', entry.pm_id)
          .execute();
        // The peer's other due letters wait as long, so that they do not stay first in line and
        // keep the letters for other peers out of every run.
        await db
          .updateTable('pm_outbox')
          .set({ next_attempt_at: next })
          .where('peer_fingerprint', '=', entry.peer_fingerprint)
          .where('next_attempt_at', '<', next)
          .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))
          .execute();
      } else {
        await this.finish(entry.pm_id, outcome.kind, outcome.error);
      }
    }
  }

  private async deliver(
    peerFingerprint: string,
    object: string,
  ): Promise<{ kind: 'retry' | PmDeliveryState; error: string | null }> {
    const peer = await this.database.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', '=', peerFingerprint)
      .executeTakeFirst();
    if (peer === undefined) {
      return { kind: 'refused', error: 'the instance was removed from the peers' };
    }
    if (!peer.trusted) return { kind: 'retry', error: 'the instance is not trusted now' };
    try {
      const answer = await this.client.request(peer, {
        method: 'POST',
        path: '/api/federation/private_messages/',
        body: JSON.parse(object) as unknown,
        maxBytes: 64 * 1024,
      });
      if (answer.status === 200 || answer.status === 201) return { kind: 'delivered', error: null };
      const error = errorOf(answer);
      if (error !== undefined && FINAL_REFUSALS.has(error.code)) {
        if (error.code === 'PM_RECIPIENT_NOT_HERE') {
          const parsed = JSON.parse(object) as { to: string };
          await this.keys.forgetKey(peerFingerprint, parsed.to);
        }
        return { kind: 'refused', error: `${error.code}: ${error.message}`.slice(0, 500) };
      }
      return {
        kind: 'retry',
        error: `answered ${answer.status}${error === undefined ? '' : ` ${error.code}`}`,
      };
    } catch (error) {
      if (error instanceof FederationError) return { kind: 'retry', error: error.message };
      throw error;
    }
  }

  private async finish(pmId: string, state: PmDeliveryState, error: string | null) {
    await this.database.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('private_messages')
        .set({ delivery_state: state, delivery_error: error })
        .where('id', '=', pmId)
        .execute();
      await trx.deleteFrom('pm_outbox').where('pm_id', '=', pmId).execute();
    });
  }
}

function errorOf(answer: { json<T>(): T }): { code: string; message: string } | undefined {
  try {
    const body = answer.json<{ error?: { code?: unknown; message?: unknown } }>();
    if (typeof body.error?.code === 'string') {
      return { code: body.error.code, message: String(body.error.message ?? '') };
    }
  } catch {
    // Not an envelope: counted as a transient failure.
  }
  return undefined;
}
