// A would-be peer's identity document (GET /api/federation/identity/, unsigned), fetched through
// the one federation client (client.ts: every transport, bounded in time and bytes, no redirects)
// and checked again here, its failures turned into the registry's error codes.
import { z } from 'zod';
import { PublicKeyFormatError, parsePublicKey } from '../../../crypto/keys.js';
import { AppError } from '../../http/errors.js';
import type { PeerTransport } from '../../db/schema.js';

export interface IdentityDocument {
  pubkey: string;
  fingerprint: string;
  nickname: string;
  base_url: string | null;
}

export interface TransportChoice {
  transport: PeerTransport;
  proxy_url: string | null;
}

/** Fetches and checks the identity a base URL serves; errors are AppErrors for the caller. */
export type IdentityFetcher = (
  baseUrl: string,
  transport: TransportChoice,
) => Promise<IdentityDocument>;

const Document = z.object({
  pubkey: z.string().max(8192),
  fingerprint: z.string().max(128),
  nickname: z.string().min(1).max(100),
  base_url: z.string().max(2048).nullable().optional(),
});

export const unreachable = (reason: string) =>
  new AppError(502, 'PEER_UNREACHABLE', `the peer could not be reached: ${reason}`, { reason });

/** Checks a fetched document: an RSA key whose fingerprint is the one announced. */
export function checkIdentity(body: unknown): IdentityDocument {
  const envelope = z.object({ data: Document }).safeParse(body);
  if (!envelope.success) throw unreachable('the answer is not an Axon identity document');
  const doc = envelope.data.data;
  let key: { pem: string; fingerprint: string };
  try {
    key = parsePublicKey(doc.pubkey);
  } catch (error) {
    if (!(error instanceof PublicKeyFormatError)) throw error;
    throw new AppError(502, 'PEER_IDENTITY_INVALID', `the peer's public key is ${error.message}`);
  }
  if (key.fingerprint !== doc.fingerprint) {
    throw new AppError(
      502,
      'PEER_IDENTITY_INVALID',
      "the peer's announced fingerprint is not the one of its key",
      { announced: doc.fingerprint, computed: key.fingerprint },
    );
  }
  return {
    pubkey: key.pem,
    fingerprint: key.fingerprint,
    nickname: doc.nickname,
    base_url: doc.base_url ?? null,
  };
}

/** The shape of the federation client's identity fetch (client.ts). */
interface IdentitySource {
  fetchIdentity(
    baseUrl: string,
    transport: TransportChoice,
  ): Promise<{ pubkey: string; fingerprint: string; nickname: string; base_url: string | null }>;
}

/**
 * The registry's fetcher over the shared federation client (every transport): its failures become
 * PEER_UNREACHABLE with the reason, and the document is checked here as well.
 */
export function fetcherOver(client: IdentitySource): IdentityFetcher {
  return async (baseUrl, transport) => {
    let doc: Awaited<ReturnType<IdentitySource['fetchIdentity']>>;
    try {
      doc = await client.fetchIdentity(baseUrl, transport);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw unreachable(error instanceof Error ? error.message : String(error));
    }
    return checkIdentity({ data: doc });
  };
}
