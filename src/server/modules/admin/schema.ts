// The administration API's shapes: the user list sysops see and the roles and rights they grant.
import { z } from 'zod';
import { Profile, username } from '../accounts/schema.js';

export const AdminUser = Profile.extend({
  is_banned: z.boolean(),
  banned_until: z.string().nullable(),
  ban_reason: z.string().nullable(),
}).meta({ id: 'AdminUser' });

export const AdminUsernameParam = z.strictObject({ username });

export const UserFlagsPatch = z
  .strictObject({
    is_moderator: z.boolean().optional(),
    can_post: z.boolean().optional(),
    can_upload: z.boolean().optional(),
  })
  .refine((v) => Object.values(v).some((flag) => flag !== undefined), {
    message: 'give at least one of is_moderator, can_post, can_upload',
  });
