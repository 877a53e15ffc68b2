// Sysop administration (foundation part): the user list.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authorize } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { PageQuery, Profile } from '../accounts/schema.js';
import { toProfile } from '../accounts/routes.js';

const AdminUser = Profile.extend({
  is_banned: z.boolean(),
  banned_until: z.string().nullable(),
  ban_reason: z.string().nullable(),
});

export async function adminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/admin/users/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every account, in sign-up order',
        querystring: PageQuery,
        response: {
          200: envelopeOf(
            z.object({ items: z.array(AdminUser), next_cursor: z.string().nullable() }),
          ),
        },
      },
    },
    async (request) => {
      await authorize(ctx, request, 'admin');
      const page = await ctx.accounts.listUsers(request.query);
      return ok({
        items: page.items.map((u) => ({
          ...toProfile(u),
          is_banned: u.isBanned,
          banned_until: u.bannedUntil === null ? null : new Date(u.bannedUntil).toISOString(),
          ban_reason: u.banReason,
        })),
        next_cursor: page.next_cursor,
      });
    },
  );
}
