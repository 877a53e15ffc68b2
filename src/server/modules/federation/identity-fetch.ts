// A would-be peer's identity document (GET /api/federation/identity/, unsigned), fetched through
// the one federation client (client.ts: every transport, bounded in time and bytes, no redirects)
// (which checks that its key is RSA and is the one its fingerprint names); failures become the
// registry's error codes.
import { AppError } from '../../http/errors.js';
import { IdentityInvalidError } from './client.js';
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

export const unreachable = (reason: string) =>
  new AppError(502, 'PEER_UNREACHABLE', `the peer could not be reached: ${reason}`, { reason });

/** The shape of the federation client's identity fetch (client.ts). */
interface IdentitySource {
  fetchIdentity(
    baseUrl: string,
    transport: TransportChoice,
  ): Promise<{ pubkey: string; fingerprint: string; nickname: string; base_url: string | null }>;
}

/**
 * The registry's fetcher over the shared federation client (every transport): an invalid identity
 * becomes PEER_IDENTITY_INVALID, any other failure PEER_UNREACHABLE with the reason.
 */
export function fetcherOver(client: IdentitySource): IdentityFetcher {
  return async (baseUrl, transport) => {
    try {
      return await client.fetchIdentity(baseUrl, transport);
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof IdentityInvalidError)
        throw new AppError(502, 'PEER_IDENTITY_INVALID', error.message);
      throw unreachable(error instanceof Error ? error.message : String(error));
    }
  };
}
