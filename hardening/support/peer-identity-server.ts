// A stand-in peer for the authorization matrix: a loopback HTTP server answering
// GET /api/federation/identity/ with one of two keys, so the sysop cases of the peer routes find
// a peer to add, show, change, refresh, re-key and remove.
import { createServer, type Server } from 'node:http';
import { generateRsaKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { send } from '../server.js';

export class PeerIdentityServer {
  private server: Server | undefined;
  private keys: [KeyPair, KeyPair] | undefined;
  private current = 0;
  url = '';

  /** The first key's fingerprint: the peer as added; the second: its announced key change. */
  get fingerprints(): [string, string] {
    return [this.keys![0].fingerprint, this.keys![1].fingerprint];
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    this.keys = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
    this.server = createServer((request, response) => {
      const key = this.keys![this.current]!;
      if (request.url !== '/api/federation/identity/') return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          success: true,
          data: {
            pubkey: key.publicKey,
            fingerprint: key.fingerprint,
            nickname: 'matrix-peer',
            base_url: null,
          },
          error: null,
          timestamp: new Date().toISOString(),
        }),
      );
    });
    this.server.unref();
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${address.port}`;
  }

  /**
   * Leaves the registry of the server at `base` holding this peer under its first key, and, with
   * `pendingChange`, with its second key announced and waiting for acceptance.
   */
  async reset(base: string, sysopToken: string, pendingChange = false): Promise<void> {
    await this.start();
    const list = await send(base, {
      method: 'GET',
      url: '/api/federation/peers/',
      token: sysopToken,
    });
    const peers = (JSON.parse(list.text) as { data: { items: Array<{ fingerprint: string }> } })
      .data.items;
    for (const peer of peers)
      await send(base, {
        method: 'DELETE',
        url: `/api/federation/peers/${peer.fingerprint}/`,
        token: sysopToken,
      });
    this.current = 0;
    const added = await send(base, {
      method: 'POST',
      url: '/api/federation/peers/',
      token: sysopToken,
      json: { base_url: this.url, fingerprint: this.fingerprints[0] },
    });
    if (added.status !== 201)
      throw new Error(`adding the matrix peer: ${added.status} ${added.text}`);
    if (!pendingChange) return;
    this.current = 1;
    await send(base, {
      method: 'POST',
      url: `/api/federation/peers/${this.fingerprints[0]}/refresh/`,
      token: sysopToken,
    });
  }

  /** Leaves the registry empty, for the case that adds the peer. */
  async clear(base: string, sysopToken: string): Promise<void> {
    await this.reset(base, sysopToken);
    await send(base, {
      method: 'DELETE',
      url: `/api/federation/peers/${this.fingerprints[0]}/`,
      token: sysopToken,
    });
  }
}
