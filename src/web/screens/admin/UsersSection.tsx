// Every account, with the roles and rights a sysop grants or takes away.
import { useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useState } from 'react';
import { updateUserFlags, useAdminUsers } from '../../api/admin';
import { useSession } from '../../api/session';
import type { AdminUser, Page } from '../../api/types';
import { Empty, ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { ColumnHeads, LoadMore } from '../../ui/paging';
import { Time } from '../../ui/text';
import { queryKeys } from '../../api/keys';

type Flag = 'is_moderator' | 'can_post' | 'can_upload';
const FLAGS: { flag: Flag; label: string }[] = [
  { flag: 'is_moderator', label: 'Moderator' },
  { flag: 'can_post', label: 'Can post' },
  { flag: 'can_upload', label: 'Can upload' },
];

function roleNames(user: AdminUser): string {
  const roles = [
    user.is_sysop && 'sysop',
    user.is_moderator && 'moderator',
    user.is_agent && 'agent',
  ].filter(Boolean);
  return roles.length > 0 ? roles.join(', ') : 'member';
}

function BanState({ user }: { user: AdminUser }) {
  const active =
    user.is_banned && (user.banned_until === null || Date.parse(user.banned_until) > Date.now());
  if (!active) return <span className="text-phosphor-dim">—</span>;
  return (
    <span className="text-red-300">
      {user.banned_until === null ? (
        'for good'
      ) : (
        <>
          until <Time iso={user.banned_until} />
        </>
      )}
      {user.ban_reason !== null && <> — {user.ban_reason}</>}
    </span>
  );
}

function UserRow({ user, isMe }: { user: AdminUser; isMe: boolean }) {
  const queryClient = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  // What the sysop just asked for, shown at once (the mutation's own pending state arrives a
  // render later, and a controlled checkbox would flick back meanwhile); the answer settles it.
  const [asked, setAsked] = useState<Partial<Record<Flag, boolean>>>({});
  const change = useMutation({
    onSettled: () => setAsked({}),
    mutationFn: (patch: Partial<Record<Flag, boolean>>) => updateUserFlags(user.username, patch),
    onSuccess: (saved, patch) => {
      queryClient.setQueryData<InfiniteData<Page<AdminUser>>>(queryKeys.adminUsers, (data) =>
        data === undefined
          ? data
          : {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((u) => (u.id === saved.id ? saved : u)),
              })),
            },
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.modlog });
      const [flag, value] = Object.entries(patch)[0] ?? [];
      const label = FLAGS.find((f) => f.flag === flag)?.label.toLowerCase() ?? 'flag';
      setDone(`${saved.username}: ${label} ${value === true ? 'granted' : 'taken away'}.`);
    },
  });
  return (
    <tr className="border-b border-line align-top">
      <th scope="row" className="p-1 text-left font-normal">
        <strong className="text-phosphor">{user.username}</strong>
        {isMe && <span className="text-phosphor-dim"> (you)</span>}
      </th>
      <td className="p-1">{user.nickname}</td>
      <td className="p-1">{roleNames(user)}</td>
      <td className="p-1 text-right">{user.karma}</td>
      <td className="p-1">
        <BanState user={user} />
      </td>
      <td className="whitespace-nowrap p-1">
        <Time iso={user.created_at} />
      </td>
      <td className="p-1">
        <fieldset disabled={isMe || change.isPending} className="flex flex-wrap gap-x-3 gap-y-1">
          <legend className="sr-only">Roles and rights of {user.username}</legend>
          {FLAGS.map(({ flag, label }) => (
            <label key={flag} className="flex items-center gap-1 whitespace-nowrap">
              <input
                type="checkbox"
                checked={asked[flag] ?? user[flag]}
                onChange={(e) => {
                  setDone(null);
                  setAsked({ [flag]: e.target.checked });
                  change.mutate({ [flag]: e.target.checked });
                }}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {isMe && <p className="text-xs text-phosphor-dim">Another sysop must change yours.</p>}
        <ErrorNotice error={change.error} />
        {done !== null && <Notice>{done}</Notice>}
      </td>
    </tr>
  );
}

export function UsersSection() {
  const session = useSession();
  const users = useAdminUsers();
  const items = users.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <ErrorNotice error={users.error} />
      {users.isPending && <Loading what="Loading users" />}
      {users.isSuccess && items.length === 0 && <Empty>No accounts yet.</Empty>}
      {items.length > 0 && (
        <div className="relative overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <caption className="sr-only">Accounts, in sign-up order</caption>
            <ColumnHeads
              names={[
                'Username',
                'Nickname',
                'Roles',
                'Karma',
                'Banned',
                'Joined',
                'Roles and rights',
              ]}
              right={['Karma']}
            />
            <tbody>
              {items.map((user) => (
                <UserRow key={user.id} user={user} isMe={user.id === session?.user.id} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={users} />
    </>
  );
}
