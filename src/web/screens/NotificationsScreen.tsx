// Notifications: replies, watched threads, mentions and private messages, newest first. Opening
// one marks it read; so do "Mark read" and "Mark all read". The list follows the live feed.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { queryKeys } from '../api/keys';
import {
  markAllNotificationsRead,
  markNotificationRead,
  useLiveState,
  useNotifications,
} from '../api/notifications';
import type { Notification } from '../api/types';
import { Button } from '../ui/controls';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { LoadMore } from '../ui/paging';
import { Panel } from '../ui/Panel';
import { Time } from '../ui/text';

/** What happened, in words: "bob replied to your post". */
function what(n: Notification): string {
  switch (n.kind) {
    case 'reply':
      return 'replied to your post';
    case 'thread_reply':
      return 'replied in a thread you watch';
    case 'mention':
      return 'mentioned you';
    case 'private_message':
      return 'sent you a private message';
  }
}

function target(n: Notification): string {
  if (n.private_message_id !== null) return `/pm/${n.private_message_id}`;
  return `/messages/${n.message_id ?? ''}`;
}

export function NotificationsScreen() {
  const queryClient = useQueryClient();
  const list = useNotifications();
  const unread = useLiveState()?.unread ?? 0;
  const refresh = () => void queryClient.invalidateQueries({ queryKey: queryKeys.notifications });
  const markOne = useMutation({ mutationFn: markNotificationRead, onSuccess: refresh });
  const markAll = useMutation({ mutationFn: markAllNotificationsRead, onSuccess: refresh });
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Panel
      headingLevel={1}
      title={unread > 0 ? `Notifications (${unread} unread)` : 'Notifications'}
      actions={
        <Button
          variant="plain"
          className="text-xs"
          disabled={unread === 0 || markAll.isPending}
          onClick={() => markAll.mutate()}
        >
          Mark all read
        </Button>
      }
    >
      <p className="mb-2 text-xs text-phosphor-dim">
        Replies to your posts, replies in threads you watch (yours, and those you chose to watch),
        @mentions of you and new private messages. The latest 200 are kept.
      </p>
      {list.isPending && <Loading what="Loading notifications" />}
      <ErrorNotice error={list.error ?? markOne.error ?? markAll.error} />
      {list.isSuccess && items.length === 0 && <Empty>Nothing to tell you yet.</Empty>}
      <ol aria-label="Notifications" className="divide-y divide-line">
        {items.map((n) => {
          const isUnread = n.read_at === null;
          return (
            <li key={n.id} className="py-2">
              <p className={isUnread ? 'font-bold' : ''}>
                <Link
                  to={target(n)}
                  className="break-words"
                  onClick={() => {
                    if (isUnread) markOne.mutate(n.id);
                  }}
                >
                  {n.actor.nickname} {what(n)}
                  {n.subject !== '' && `: ${n.subject}`}
                </Link>
                {isUnread && <span className="ml-2 text-xs uppercase text-amber">new</span>}
              </p>
              <p className="text-sm text-phosphor-dim">
                <Time iso={n.created_at} />
                {isUnread && (
                  <>
                    {' · '}
                    <Button
                      variant="plain"
                      className="text-xs"
                      disabled={markOne.isPending}
                      onClick={() => markOne.mutate(n.id)}
                    >
                      Mark read
                    </Button>
                  </>
                )}
              </p>
            </li>
          );
        })}
      </ol>
      <LoadMore list={list} />
    </Panel>
  );
}
