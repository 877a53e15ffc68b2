// Profile updates across instances: a local author's nickname or avatar change, signed with the
// session's key, goes to the peers of the boards the author posted on; a remote author's update
// is kept in remote_authors (the newest by its created_at wins).
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { signObject } from '../../../crypto/signing.js';
import type { DatabaseSchema } from '../../db/schema.js';
import type { ProfileListener } from '../accounts/service.js';
import type { FederationLog } from './log.js';
import type { ProfileObject } from './objects.js';

/** The listener AccountService calls on a profile change: logs a signed profile object. */
export function profileToLog(log: FederationLog): ProfileListener {
  return async (trx, userId, signer) => {
    const shared = await trx
      .selectFrom('messages')
      .innerJoin('boards', 'boards.id', 'messages.board_id')
      .select('messages.id')
      .where('messages.author_id', '=', userId)
      .where('boards.federation_room_id', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    if (shared === undefined) return undefined;
    const user = await trx
      .selectFrom('users')
      .select(['pubkey', 'fingerprint', 'nickname', 'avatar', 'avatar_mime'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    const object = signObject(
      {
        type: 'profile',
        id: uuidv7(),
        author: { pubkey: user.pubkey, nickname: user.nickname },
        avatar:
          user.avatar === null || user.avatar_mime === null
            ? null
            : { mime_type: user.avatar_mime, data: Buffer.from(user.avatar).toString('base64') },
        created_at: new Date().toISOString(),
      },
      signer,
    );
    const seq = await log.append(trx, {
      object,
      roomId: null,
      authorFingerprint: user.fingerprint,
      receivedFrom: null,
    });
    return seq === undefined ? undefined : () => log.announce(seq);
  };
}

/** Keeps a remote author's profile unless a newer one is already here. */
export async function storeRemoteProfile(
  trx: Kysely<DatabaseSchema>,
  object: ProfileObject,
  fingerprint: string,
  instance: string,
  avatar: { bytes: Buffer; mime: string; hash: string } | null,
): Promise<void> {
  const profileAt = Date.parse(object.created_at);
  const values = {
    nickname: object.author.nickname,
    instance,
    avatar: avatar?.bytes ?? null,
    avatar_mime: avatar?.mime ?? null,
    avatar_hash: avatar?.hash ?? null,
    profile_at: profileAt,
    updated_at: Date.now(),
  };
  await trx
    .insertInto('remote_authors')
    .values({ fingerprint, ...values })
    .onConflict((oc) =>
      oc
        .column('fingerprint')
        .doUpdateSet(values)
        .where('remote_authors.profile_at', '<', profileAt),
    )
    .execute();
}
