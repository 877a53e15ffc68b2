// The sysop API of the peer registry: /api/federation/peers/ — list, show, add (after the
// fingerprint is confirmed), change, refresh the identity, accept a key change, remove.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { pageOf } from '../../http/pagination.js';
import { PageQuery } from '../accounts/schema.js';
import type { PeerHealthReport } from './health.js';
import {
  AcceptKeyInput,
  Peer,
  PeerInput,
  PeerParams,
  PeerPatch,
  PeerRefresh,
} from './peer-schema.js';
import type { PeerRow } from './peers.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentHealth(h: PeerHealthReport): z.output<typeof Peer>['health'] {
  return {
    ...h,
    last_success_at: iso(h.last_success_at),
    last_error_at: iso(h.last_error_at),
    oldest_undelivered_at: iso(h.oldest_undelivered_at),
  };
}

export function presentPeer(row: PeerRow, health: PeerHealthReport): z.output<typeof Peer> {
  return {
    fingerprint: row.fingerprint,
    pubkey: row.pubkey,
    base_url: row.base_url,
    nickname: row.nickname,
    trusted: Boolean(row.trusted),
    trusted_for_moderation: Boolean(row.trusted_for_moderation),
    transport: row.transport,
    proxy_url: row.proxy_url,
    pending_fingerprint: row.pending_fingerprint,
    pending_pubkey: row.pending_pubkey,
    max_attachment_bytes: row.max_attachment_bytes,
    bytes_per_day: row.bytes_per_day,
    objects_per_minute: row.objects_per_minute,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    health: presentHealth(health),
  };
}

export async function peerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['federation'];

  const withHealth = async (rows: PeerRow[]) => {
    const health = await ctx.federationHealth.of(rows);
    return rows.map((row) => presentPeer(row, health.get(row.fingerprint)!));
  };
  const one = async (row: PeerRow) => (await withHealth([row]))[0]!;

  r.get(
    '/api/federation/peers/',
    {
      schema: {
        tags,
        summary: 'The peer registry with each peer’s health (sysops)',
        querystring: PageQuery,
        response: { 200: envelopeOf(pageOf(Peer)) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const page = await ctx.peers.list(request.query, user);
      return ok({ items: await withHealth(page.items), next_cursor: page.next_cursor });
    },
  );

  r.get(
    '/api/federation/peers/:fingerprint/',
    {
      schema: {
        tags,
        summary: 'One peer and its health (sysops)',
        params: PeerParams,
        response: { 200: envelopeOf(Peer) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      return ok(await one(await ctx.peers.get(request.params.fingerprint, user)));
    },
  );

  r.post(
    '/api/federation/peers/',
    {
      schema: {
        tags,
        summary:
          'Add a peer: without `fingerprint` answers PEER_CONFIRMATION_REQUIRED with the fingerprint it shows and stores nothing (sysops)',
        body: PeerInput,
        response: { 201: envelopeOf(Peer) },
      },
    },
    async (request, reply) => {
      const { user } = await authenticate(ctx, request);
      const row = await ctx.peers.add(request.body, user);
      return reply.code(201).send(ok(await one(row)));
    },
  );

  r.patch(
    '/api/federation/peers/:fingerprint/',
    {
      schema: {
        tags,
        summary: 'Trust or distrust a peer, change its transport, nickname or limits (sysops)',
        params: PeerParams,
        body: PeerPatch,
        response: { 200: envelopeOf(Peer) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      return ok(await one(await ctx.peers.update(request.params.fingerprint, request.body, user)));
    },
  );

  r.post(
    '/api/federation/peers/:fingerprint/refresh/',
    {
      schema: {
        tags,
        summary: 'Fetch the peer’s identity again; a new key waits as pending_fingerprint (sysops)',
        params: PeerParams,
        response: { 200: envelopeOf(PeerRefresh) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const { keyChanged, peer } = await ctx.peers.refresh(request.params.fingerprint, user);
      return ok({ key_changed: keyChanged, peer: await one(peer) });
    },
  );

  r.post(
    '/api/federation/peers/:fingerprint/accept_key/',
    {
      schema: {
        tags,
        summary: 'Accept the peer’s pending key; `fingerprint` must be the pending one (sysops)',
        params: PeerParams,
        body: AcceptKeyInput,
        response: { 200: envelopeOf(Peer) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const row = await ctx.peers.acceptKey(
        request.params.fingerprint,
        request.body.fingerprint,
        user,
      );
      return ok(await one(row));
    },
  );

  r.delete(
    '/api/federation/peers/:fingerprint/',
    {
      schema: {
        tags,
        summary: 'Remove a peer, its delivery state and its place on shared boards (sysops)',
        params: PeerParams,
        response: { 200: envelopeOf(z.object({ removed: z.string() })) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      await ctx.peers.remove(request.params.fingerprint, user);
      return ok({ removed: request.params.fingerprint });
    },
  );
}
