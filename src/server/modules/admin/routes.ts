// Sysop administration: the user list and the roles and rights sysops grant.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { mapPage, pageOf } from '../../http/pagination.js';
import { PageQuery } from '../accounts/schema.js';
import { toProfile } from '../accounts/present.js';
import type { User } from '../accounts/user.js';
import { AdminUser, AdminUsernameParam, UserFlagsPatch } from './schema.js';

function presentAdminUser(u: User): z.output<typeof AdminUser> {
  return {
    ...toProfile(u),
    is_banned: u.isBanned,
    banned_until: u.bannedUntil === null ? null : new Date(u.bannedUntil).toISOString(),
    ban_reason: u.banReason,
  };
}

export async function adminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/admin/users/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every account, in sign-up order',
        querystring: PageQuery,
        response: { 200: envelopeOf(pageOf(AdminUser)) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.accounts.listUsers(request.query, session.user);
      return ok(mapPage(page, presentAdminUser));
    },
  );

  r.patch(
    '/api/admin/users/:username/',
    {
      schema: {
        tags: ['admin'],
        summary: "Grant or take away a user's moderator role and rights to post and upload",
        params: AdminUsernameParam,
        body: UserFlagsPatch,
        response: { 200: envelopeOf(AdminUser) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const user = await ctx.accounts.setFlags(request.params.username, {
        by: session.user,
        flags: {
          isModerator: request.body.is_moderator,
          canPost: request.body.can_post,
          canUpload: request.body.can_upload,
        },
        actor: { id: session.user.id, name: session.user.username },
      });
      return ok(presentAdminUser(user));
    },
  );
}
