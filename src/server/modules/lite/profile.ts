// Your own account without JavaScript: who you are here (username, key fingerprint, karma, roles)
// and your nickname, changed through the same account service (and signed the same way) as the API.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { User } from '../accounts/user.js';
import { html, when } from './html.js';
import { csrfField, csrfInput, seeOther, type Lite } from './pages.js';
import { formSession } from './session.js';

/** The roles and limits of an account, in words (as the web client's profile shows them). */
function roleNames(user: User): string {
  const roles = [
    user.isSysop && 'sysop',
    user.isModerator && 'moderator',
    user.isAgent && 'agent',
  ].filter(Boolean);
  const limits = [!user.canPost && 'may not post', !user.canUpload && 'may not upload'];
  return [...(roles.length > 0 ? roles : ['member']), ...limits.filter(Boolean)].join(', ');
}

export function profileRoutes(app: FastifyInstance, lite: Lite): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ctx } = lite;

  r.get('/lite/profile/', { schema: { hide: true } }, async (request, reply) => {
    const reader = await lite.member(request);
    const user = reader.session.user;
    const rows: [string, string | ReturnType<typeof when>][] = [
      ['Username', user.username],
      ['Nickname', user.nickname],
      ['Key fingerprint', user.fingerprint],
      ['Karma', String(user.karma)],
      ['Roles', roleNames(user)],
      ['Member since', when(user.createdAt)],
    ];
    return lite.send(
      reply,
      'Your profile',
      html`<h1>Your profile</h1>
        <dl class="profile">
          ${rows.map(
            ([name, value]) =>
              html`<dt>${name}</dt>
                <dd>${value}</dd>`,
          )}
        </dl>
        <form method="post" action="/lite/profile/">
          <h2>Change your nickname</h2>
          ${csrfInput(reader)}
          <p>
            <label for="nickname">Nickname</label><br /><input
              id="nickname"
              name="nickname"
              type="text"
              maxlength="50"
              value="${user.nickname}"
              required
            />
          </p>
          <p><button type="submit">Save</button></p>
        </form>`,
      reader,
    );
  });

  r.post(
    '/lite/profile/',
    {
      schema: {
        hide: true,
        body: z.strictObject({ nickname: z.string().max(200), csrf: csrfField }),
      },
    },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      await ctx.accounts.updateProfile(
        session.user.id,
        { nickname: request.body.nickname },
        session.privateKey(),
      );
      return seeOther(reply, '/lite/profile/');
    },
  );
}
