// Private messages over HTTP: send, inbox and outbox, read, delete.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { avatarUrl } from '../../../shared/accounts.js';
import { renderMarkdown } from '../../../shared/markdown.js';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { mapPage } from '../../http/pagination.js';
import {
  BoxPage,
  BoxQuery,
  ConversationList,
  ConversationPage,
  ConversationQuery,
  type ConversationSchema,
  IdParam,
  PartyParam,
  PrivateMessagePost,
  PrivateMessageSchema,
} from './schema.js';
import { remotePrivateMessageRoutes } from './federation-routes.js';
import type { Conversation, Party, PrivateMessage } from './service.js';

function presentParty(party: Party) {
  return {
    fingerprint: party.fingerprint,
    user_id: party.userId,
    nickname: party.nickname,
    instance: party.instance,
    avatar_url: party.userId === null ? null : avatarUrl(party.userId, party.avatarHash),
  };
}

function present(pm: PrivateMessage): z.output<typeof PrivateMessageSchema> {
  return {
    id: pm.id,
    from: { ...presentParty(pm.from), nickname: pm.from.nickname },
    to: presentParty(pm.to),
    reply_to: pm.replyTo,
    delivery: pm.delivery,
    subject: pm.subject,
    body: pm.body,
    body_html: renderMarkdown(pm.body),
    attachments: pm.attachments,
    created_at: new Date(pm.createdAt).toISOString(),
    read_at: pm.readAt === null ? null : new Date(pm.readAt).toISOString(),
    signature_valid: pm.signatureValid,
    readable: pm.readable,
  };
}

const presentConversation = (c: Conversation): z.output<typeof ConversationSchema> => ({
  with: presentParty(c.party),
  last_message: present(c.last),
  unread: c.unread,
});

export async function privateMessageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  remotePrivateMessageRoutes(app, ctx);

  r.post(
    '/api/private_messages/',
    {
      schema: {
        tags: ['private messages'],
        summary:
          'Send a private message to a user (username, key fingerprint, or name@instance for a user of a trusted peer), sealed for both of you',
        body: PrivateMessagePost,
        response: { 201: envelopeOf(PrivateMessageSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      return reply
        .code(201)
        .send(ok(present(await ctx.privateMessages.send(session, request.body))));
    },
  );

  r.get(
    '/api/private_messages/',
    {
      schema: {
        tags: ['private messages'],
        summary: 'Your inbox or outbox, newest first',
        querystring: BoxQuery,
        response: { 200: envelopeOf(BoxPage) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const { box, ...query } = request.query;
      const page = await ctx.privateMessages.list(session, box, query);
      return ok({
        ...mapPage(page, present),
        unread: await ctx.privateMessages.unreadCount(session.user.id),
      });
    },
  );

  r.get(
    '/api/private_messages/conversations/',
    {
      schema: {
        tags: ['private messages'],
        summary:
          'Your conversations, the latest first: letters grouped by the other person, each with its newest letter and unread count',
        querystring: ConversationQuery,
        response: { 200: envelopeOf(ConversationList) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.privateMessages.conversations(session, request.query);
      return ok({
        ...mapPage(page, presentConversation),
        unread: await ctx.privateMessages.unreadCount(session.user.id),
      });
    },
  );

  r.get(
    '/api/private_messages/conversations/:fingerprint/',
    {
      schema: {
        tags: ['private messages'],
        summary:
          'Your letters with the holder of this key, a page from the newest (oldest first within it); received ones shown are marked read',
        params: PartyParam,
        querystring: ConversationQuery,
        response: { 200: envelopeOf(ConversationPage) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.privateMessages.conversation(
        session,
        request.params.fingerprint,
        request.query,
      );
      return ok(mapPage(page, present));
    },
  );

  r.get(
    '/api/private_messages/:id/',
    {
      schema: {
        tags: ['private messages'],
        summary: 'Read one (marks it read for the recipient)',
        params: IdParam,
        response: { 200: envelopeOf(PrivateMessageSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const message = await ctx.privateMessages.read(session, request.params.id);
      // Reading a letter reads the notification that told of it.
      if (message.readAt !== null && message.to.userId === session.user.id)
        await ctx.notifications.letterRead(session.user, message.id);
      return ok(present(message));
    },
  );

  r.delete(
    '/api/private_messages/:id/',
    {
      schema: {
        tags: ['private messages'],
        summary: 'Remove it from your box',
        params: IdParam,
        response: { 200: envelopeOf(z.object({ deleted: z.string() })) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      await ctx.privateMessages.delete(session, request.params.id);
      return ok({ deleted: request.params.id });
    },
  );
}
