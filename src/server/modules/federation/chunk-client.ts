// How this instance asks a peer for chunks and re-keys: signed requests through the one
// federation client. A 404 means "not there for us"; anything else but the answer is unreachable.
import { MAX_BLOB_BYTES } from '../../../bitsync/index.js';
import type { PeerRow } from '../../db/schema.js';
import { FederationError, type FederationClient, type FederationResponse } from './client.js';
import { PeerUnreachableError, type ChunkSource } from './remote-content.js';

const REKEY_ANSWER_LIMIT = 256 * 1024;

export class PeerChunkSource implements ChunkSource {
  constructor(private readonly client: FederationClient) {}

  async chunk(peer: PeerRow, chunkHash: string): Promise<Buffer | undefined> {
    const answer = await this.ask(peer, {
      method: 'GET',
      path: `/api/federation/chunks/${chunkHash}`,
      maxBytes: MAX_BLOB_BYTES,
    });
    return answer?.body;
  }

  async rekey(peer: PeerRow, contentHash: string): Promise<unknown> {
    const answer = await this.ask(peer, {
      method: 'POST',
      path: '/api/federation/rekey/',
      body: { content_hash: contentHash },
      maxBytes: REKEY_ANSWER_LIMIT,
    });
    if (answer === undefined) return undefined;
    try {
      return answer.json<{ data?: { manifest?: unknown } }>().data?.manifest;
    } catch {
      throw new PeerUnreachableError('answered a re-key with something that is not JSON');
    }
  }

  private async ask(
    peer: PeerRow,
    request: Parameters<FederationClient['request']>[1],
  ): Promise<FederationResponse | undefined> {
    let answer: FederationResponse;
    try {
      answer = await this.client.request(peer, request);
    } catch (error) {
      if (error instanceof FederationError) throw new PeerUnreachableError(error.message);
      throw error;
    }
    if (answer.status === 404) return undefined;
    if (answer.status !== 200)
      throw new PeerUnreachableError(`answered ${answer.status} ${errorCode(answer)}`.trim());
    return answer;
  }
}

/** The error code of an answer's envelope, if it has one. */
function errorCode(answer: FederationResponse): string {
  try {
    return answer.json<{ error?: { code?: string } }>().error?.code ?? '';
  } catch {
    return '';
  }
}
