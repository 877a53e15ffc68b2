// The federation API's shapes: the instance identity peers fetch before trusting us.
import { z } from 'zod';

export const InstanceIdentity = z
  .object({
    pubkey: z.string(),
    fingerprint: z.string(),
    nickname: z.string(),
    base_url: z.string().nullable(),
  })
  .meta({ id: 'InstanceIdentity' });
