// AxonChat, live: the latest lines, then a long poll that answers the moment someone posts
// (works through Tor and proxies), who is here, and a line to write in.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { leaveChat, postChatLine, readChatEvents, usePresence } from '../api/chat';
import { ApiError } from '../api/client';
import { queryKeys } from '../api/keys';
import type { ChatEvent } from '../api/types';
import { Button } from '../ui/controls';
import { useDraft } from '../ui/draft';
import { ErrorNotice, Loading } from '../ui/feedback';
import { BotBadge } from '../ui/Author';
import { Panel } from '../ui/Panel';
import { Markdown } from '../ui/text';

const KEEP = 500;
const WAIT_SECONDS = 25;
const TEXT_MAX = 2000;

type Status = 'connecting' | 'live' | 'reconnecting' | 'stopped';

function useChatEvents() {
  const [events, setEvents] = useState<ChatEvent[]>([]);
  const [status, setStatus] = useState<Status>('connecting');
  const [error, setError] = useState<unknown>(null);
  /** When a read last came back: the server is reachable again since then. */
  const [lastContact, setLastContact] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const add = (batch: ChatEvent[]) =>
      setEvents((current) => {
        const seen = new Set(current.map((e) => e.cursor));
        return [...current, ...batch.filter((e) => !seen.has(e.cursor))].slice(-KEEP);
      });
    void (async () => {
      let cursor: string | undefined;
      let failures = 0;
      while (!signal.aborted) {
        try {
          const batch = await readChatEvents(
            cursor === undefined
              ? { limit: 50 }
              : { after: cursor, wait: WAIT_SECONDS, limit: 100 },
            signal,
          );
          add(batch.events);
          cursor = batch.next_cursor;
          failures = 0;
          setLastContact(Date.now());
          setStatus('live');
          setError(null);
        } catch (cause) {
          if (signal.aborted) return;
          setError(cause);
          if (
            cause instanceof ApiError &&
            cause.status >= 400 &&
            cause.status < 500 &&
            cause.status !== 429
          ) {
            setStatus('stopped');
            return;
          }
          setStatus('reconnecting');
          failures++;
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(15_000, 1000 * 2 ** failures)),
          );
        }
      }
    })();
    return () => controller.abort();
  }, []);
  return { events, status, error, lastContact };
}

/**
 * Who is here follows the reader: listed as soon as the first read marked them present, and off
 * the list when they leave the chat or close the tab rather than a minute later.
 */
function usePresenceOfReader(status: Status) {
  const queryClient = useQueryClient();
  const live = status === 'live';
  useEffect(() => {
    if (live) void queryClient.invalidateQueries({ queryKey: queryKeys.presence });
  }, [live, queryClient]);
  useEffect(() => {
    // A leave that fails costs nothing: presence runs out by itself within a minute.
    const leave = () => void leaveChat().catch(() => undefined);
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, []);
}

function Presence() {
  const present = usePresence();
  const users = present.data?.users ?? [];
  return (
    <aside aria-label="Who is here" className="border border-line p-2 md:w-56 md:shrink-0">
      <h2 className="mb-1 text-sm uppercase text-amber">Here now ({users.length})</h2>
      <ul>
        {users.map((u) => (
          <li
            key={u.user_id ?? u.nickname}
            className="flex items-center gap-2 text-sm [overflow-wrap:anywhere]"
          >
            {u.avatar_url !== null ? (
              <img src={u.avatar_url} alt="" className="h-5 w-5 border border-line" />
            ) : (
              <span aria-hidden="true">●</span>
            )}
            {u.nickname}
          </li>
        ))}
      </ul>
    </aside>
  );
}

export function ChatScreen() {
  const { events, status, error, lastContact } = useChatEvents();
  usePresenceOfReader(status);
  const { draft, update, clear } = useDraft('chat', { text: '' });
  const log = useRef<HTMLOListElement>(null);
  const post = useMutation({
    mutationFn: (text: string) => postChatLine({ text }),
    onSuccess: () => clear(),
  });
  // A send that failed (the server out of reach): its note goes once a read comes back after it.
  const { reset: forgetFailedSend, isError: sendFailed, submittedAt } = post;
  useEffect(() => {
    if (sendFailed && lastContact > submittedAt) forgetFailedSend();
  }, [lastContact, sendFailed, submittedAt, forgetFailedSend]);
  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }, [events]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.text.trim();
    if (text !== '') post.mutate(text);
  };
  const statusText = {
    connecting: 'Connecting…',
    live: '● live',
    reconnecting: 'Reconnecting…',
    stopped: 'Stopped',
  }[status];
  return (
    <Panel
      headingLevel={1}
      title="AxonChat"
      actions={
        <span role="status" className="text-sm">
          {statusText}
        </span>
      }
    >
      <ErrorNotice error={status === 'live' ? null : error} />
      <div className="flex flex-col gap-3 md:flex-row">
        <div className="min-w-0 grow">
          {status === 'connecting' && <Loading what="Joining the chat" />}
          {/* The log region scrolls (and takes focus, so keys scroll it); the list inside keeps
              its list semantics. */}
          <div
            role="log"
            aria-label="Chat messages"
            aria-live="polite"
            tabIndex={0}
            className="h-[55vh] overflow-y-auto border border-line p-2"
          >
            <ol ref={log}>
              {events.length === 0 && status === 'live' && (
                <li className="text-phosphor-dim">Nobody has said anything yet.</li>
              )}
              {events.map((e) => (
                <li key={e.cursor} className="flex flex-wrap gap-x-2 py-0.5">
                  <time dateTime={e.created_at} className="shrink-0 text-phosphor-dim">
                    {e.created_at_local.slice(11, 16)}
                  </time>
                  {e.author.avatar_url !== null && (
                    <img
                      src={e.author.avatar_url}
                      alt=""
                      className="h-5 w-5 shrink-0 border border-line"
                    />
                  )}
                  <strong className="shrink-0 text-amber" title={`key ${e.author.fingerprint}`}>
                    {e.author.nickname}:
                  </strong>
                  {e.author.is_agent && <BotBadge />}
                  <div className="min-w-0 flex-1 basis-40 [overflow-wrap:anywhere] [&_.md_p]:my-0">
                    <Markdown source={e.body} />
                  </div>
                </li>
              ))}
            </ol>
          </div>
          <form onSubmit={submit} aria-label="Say something" className="mt-2 flex gap-2">
            <label htmlFor="chat-line" className="sr-only">
              Message
            </label>
            <input
              id="chat-line"
              className="grow"
              autoComplete="off"
              maxLength={TEXT_MAX}
              placeholder="Say something…"
              value={draft.text}
              onChange={(e) => update('text', e.target.value)}
            />
            <Button type="submit" disabled={post.isPending}>
              Send
            </Button>
          </form>
          <ErrorNotice error={post.error} />
        </div>
        <Presence />
      </div>
    </Panel>
  );
}
