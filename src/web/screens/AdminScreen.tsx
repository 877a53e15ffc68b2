// The sysop's console: this instance's identity (to hand to peers), the boards and who they are
// for, and every account with the roles and rights a sysop grants.
import { useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import { ACCESS_LEVELS } from '../../shared/accounts';
import { api, ApiError } from '../api/client';
import { useSession } from '../api/session';
import type { AccessLevel, AdminUser, Board, Identity, Page } from '../api/types';
import { Button, Field, TextArea, TextInput } from '../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../ui/feedback';
import { ColumnHeads, LoadMore, usePagedList } from '../ui/paging';
import { Panel } from '../ui/Panel';
import { Fingerprint, Time } from '../ui/text';
import { useProfile } from '../api/profile';

const refusal = (message: string) => new ApiError(0, 'INVALID_INPUT', message);

// ── Instance identity ──────────────────────────────────────────────────────────────────────────

function InstanceIdentity() {
  const identity = useQuery({
    queryKey: ['identity'],
    queryFn: () => api<Identity>('/api/federation/identity/'),
    staleTime: Infinity,
  });
  const keyBlock = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (pubkey: string) => {
    try {
      await navigator.clipboard.writeText(pubkey);
      setCopied('Public key copied.');
    } catch {
      // No clipboard access (an insecure origin, a refusal): select it for the reader to copy.
      const range = document.createRange();
      if (keyBlock.current !== null) range.selectNodeContents(keyBlock.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      setCopied('Could not reach the clipboard; the key is selected, press Ctrl+C to copy it.');
    }
  };
  if (identity.isPending) return <Loading what="Loading the instance identity" />;
  if (identity.isError) return <ErrorNotice error={identity.error} />;
  const { nickname, fingerprint, base_url, pubkey } = identity.data;
  return (
    <>
      <dl className="grid grid-cols-1 gap-x-4 gap-y-1 sm:grid-cols-[max-content_1fr]">
        <dt className="text-sm uppercase tracking-wide text-amber">Nickname</dt>
        <dd className="mb-2 sm:mb-0">{nickname}</dd>
        <dt className="text-sm uppercase tracking-wide text-amber">Fingerprint</dt>
        <dd className="mb-2 min-w-0 sm:mb-0">
          <Fingerprint value={fingerprint} />
        </dd>
        <dt className="text-sm uppercase tracking-wide text-amber">Base URL</dt>
        <dd className="mb-2 break-all sm:mb-0">
          {base_url ?? <span className="text-phosphor-dim">not set (AXON_BASE_URL)</span>}
        </dd>
      </dl>
      <div className="mt-3 flex flex-wrap items-center justify-between gap-2">
        <h3 className="text-sm uppercase tracking-wide text-amber" id="instance-pubkey">
          Public key
        </h3>
        <Button variant="plain" aria-label="Copy public key" onClick={() => void copy(pubkey)}>
          Copy
        </Button>
      </div>
      <pre
        ref={keyBlock}
        aria-labelledby="instance-pubkey"
        tabIndex={0}
        className="mt-2 overflow-x-auto border border-line bg-panel p-2 text-xs"
      >
        {pubkey}
      </pre>
      {copied !== null && <Notice>{copied}</Notice>}
    </>
  );
}

// ── Boards ─────────────────────────────────────────────────────────────────────────────────────

interface BoardDraft {
  name: string;
  description: string;
  is_realtime: boolean;
  read_access: AccessLevel;
  post_access: AccessLevel;
  /** Days as typed; empty keeps messages forever. */
  retention: string;
  position: string;
  is_archived: boolean;
}

const NEW_BOARD: BoardDraft = {
  name: '',
  description: '',
  is_realtime: false,
  read_access: 'public',
  post_access: 'members',
  retention: '90',
  position: '0',
  is_archived: false,
};

function draftOf(board: Board): BoardDraft {
  return {
    name: board.name,
    description: board.description,
    is_realtime: board.is_realtime,
    read_access: board.read_access,
    post_access: board.post_access,
    retention: board.message_retention_days === null ? '' : String(board.message_retention_days),
    position: String(board.position),
    is_archived: board.is_archived,
  };
}

/** The draft as the API's fields, or the first problem a person should fix. */
function fieldsOf(draft: BoardDraft): Record<string, unknown> | ApiError {
  const retention = draft.retention.trim() === '' ? null : Number(draft.retention);
  if (retention !== null && (!Number.isInteger(retention) || retention < 1)) {
    return refusal('Keep messages for a whole number of days (1 or more), or leave it empty.');
  }
  const position = Number(draft.position.trim() === '' ? '0' : draft.position);
  if (!Number.isInteger(position)) return refusal('The position must be a whole number.');
  return {
    name: draft.name.trim(),
    description: draft.description.trim(),
    is_realtime: draft.is_realtime,
    read_access: draft.read_access,
    post_access: draft.post_access,
    message_retention_days: retention,
    position,
    is_archived: draft.is_archived,
  };
}

function AccessSelect({
  label,
  value,
  onChange,
}: {
  label: string;
  value: AccessLevel;
  onChange: (v: AccessLevel) => void;
}) {
  return (
    <Field label={label}>
      {(ids) => (
        <select {...ids} value={value} onChange={(e) => onChange(e.target.value as AccessLevel)}>
          {ACCESS_LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function Checkbox({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
}) {
  return (
    <label className="mb-3 flex items-center gap-2">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** The fields of a board, for creating one or editing one (which adds "Archived"). */
function BoardFields({
  draft,
  set,
  editing,
}: {
  draft: BoardDraft;
  set: <K extends keyof BoardDraft>(key: K, value: BoardDraft[K]) => void;
  editing: boolean;
}) {
  return (
    <>
      <div className="flex flex-wrap gap-x-4">
        <div className="min-w-0 flex-1 basis-60">
          <TextInput
            label="Name"
            required
            maxLength={100}
            value={draft.name}
            onChange={(e) => set('name', e.target.value)}
          />
        </div>
        <div className="min-w-0 basis-32">
          <TextInput
            label="Position"
            type="number"
            step={1}
            value={draft.position}
            onChange={(e) => set('position', e.target.value)}
            hint="Lower comes first."
          />
        </div>
      </div>
      <TextArea
        label="Description"
        rows={3}
        maxLength={2000}
        value={draft.description}
        onChange={(e) => set('description', e.target.value)}
      />
      <div className="flex flex-wrap gap-x-4">
        <AccessSelect
          label="Read access"
          value={draft.read_access}
          onChange={(v) => set('read_access', v)}
        />
        <AccessSelect
          label="Post access"
          value={draft.post_access}
          onChange={(v) => set('post_access', v)}
        />
        <div className="min-w-0 basis-56">
          <TextInput
            label="Keep messages for (days)"
            type="number"
            min={1}
            max={36500}
            step={1}
            value={draft.retention}
            onChange={(e) => set('retention', e.target.value)}
            hint="Leave empty to keep them forever."
          />
        </div>
      </div>
      <div className="flex flex-wrap gap-x-6">
        <Checkbox
          label="Real-time (chat) board"
          checked={draft.is_realtime}
          onChange={(v) => set('is_realtime', v)}
        />
        {editing && (
          <Checkbox
            label="Archived (read-only, hidden from the list)"
            checked={draft.is_archived}
            onChange={(v) => set('is_archived', v)}
          />
        )}
      </div>
    </>
  );
}

function useBoardDraft(initial: BoardDraft) {
  const [draft, setDraft] = useState(initial);
  const set = <K extends keyof BoardDraft>(key: K, value: BoardDraft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  return { draft, set, reset: () => setDraft(initial) };
}

function useBoardsChanged() {
  const queryClient = useQueryClient();
  return (board: Board) => {
    void queryClient.invalidateQueries({ queryKey: ['boards'] });
    void queryClient.invalidateQueries({ queryKey: ['board', board.id] });
  };
}

function CreateBoardForm() {
  const { draft, set, reset } = useBoardDraft(NEW_BOARD);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const changed = useBoardsChanged();
  const create = useMutation({
    mutationFn: (fields: Record<string, unknown>) =>
      api<Board>('/api/boards/', { method: 'POST', body: fields }),
    onSuccess: (board) => {
      changed(board);
      reset();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.reset();
    const fields = fieldsOf(draft);
    if (fields instanceof ApiError) return setProblem(fields);
    setProblem(null);
    const { is_archived: _archived, ...rest } = fields;
    create.mutate(rest);
  };
  return (
    <form aria-label="Create a board" onSubmit={submit}>
      <BoardFields draft={draft} set={set} editing={false} />
      <ErrorNotice error={problem ?? create.error} />
      {create.data !== undefined && <Notice>Board “{create.data.name}” created.</Notice>}
      <Button type="submit" disabled={create.isPending}>
        {create.isPending ? 'Creating…' : 'Create board'}
      </Button>
    </form>
  );
}

function EditBoardForm({ board, onDone }: { board: Board; onDone: (message: string) => void }) {
  const original = draftOf(board);
  const { draft, set } = useBoardDraft(original);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const changed = useBoardsChanged();
  const save = useMutation({
    mutationFn: (fields: Record<string, unknown>) =>
      api<Board>(`/api/boards/${board.id}/`, { method: 'PATCH', body: fields }),
    onSuccess: (saved) => {
      changed(saved);
      onDone(`Board “${saved.name}” saved.`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const fields = fieldsOf(draft);
    const before = fieldsOf(original);
    if (fields instanceof ApiError) return setProblem(fields);
    // Only what changed is sent: an untouched field is never overwritten by a stale copy.
    const patch = Object.fromEntries(
      Object.entries(fields).filter(
        ([key, value]) => before instanceof ApiError || before[key] !== value,
      ),
    );
    if (Object.keys(patch).length === 0) return setProblem(refusal('Nothing has changed.'));
    setProblem(null);
    save.mutate(patch);
  };
  return (
    <form
      aria-label={`Edit board ${board.name}`}
      onSubmit={submit}
      className="mt-2 border border-line p-3"
    >
      <BoardFields draft={draft} set={set} editing />
      <ErrorNotice error={problem ?? save.error} />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save board'}
        </Button>
        <Button variant="plain" onClick={() => onDone('')}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function BoardRow({ board }: { board: Board }) {
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const editButtonId = useId();
  const finish = (message: string) => {
    setEditing(false);
    setDone(message === '' ? null : message);
    // Back to where the reader was, not the top of the page.
    setTimeout(() => document.getElementById(editButtonId)?.focus(), 0);
  };
  const retention =
    board.message_retention_days === null
      ? 'kept forever'
      : `kept ${board.message_retention_days} days`;
  return (
    <li className="py-2">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <div className="min-w-0">
          <strong className="text-phosphor">{board.name}</strong>
          {board.is_archived && <span className="ml-2 text-xs uppercase text-amber">archived</span>}
          {board.is_realtime && <span className="ml-2 text-xs uppercase text-amber">chat</span>}
          <p className="text-xs text-phosphor-dim">
            read: {board.read_access} · post: {board.post_access} · {retention} · position{' '}
            {board.position}
          </p>
        </div>
        {!editing && (
          <Button
            id={editButtonId}
            variant="plain"
            aria-label={`Edit ${board.name}`}
            onClick={() => {
              setDone(null);
              setEditing(true);
            }}
          >
            Edit
          </Button>
        )}
      </div>
      {done !== null && <Notice>{done}</Notice>}
      {editing && <EditBoardForm board={board} onDone={finish} />}
    </li>
  );
}

function Boards() {
  const boards = useQuery({
    queryKey: ['boards', 'all'],
    queryFn: () => api<{ items: Board[] }>('/api/boards/', { query: { include_archived: true } }),
  });
  return (
    <>
      <ErrorNotice error={boards.error} />
      {boards.isPending && <Loading what="Loading boards" />}
      {boards.data?.items.length === 0 && <Empty>No boards yet. Create the first below.</Empty>}
      <ul aria-label="Boards" className="divide-y divide-line">
        {boards.data?.items.map((board) => (
          <BoardRow key={board.id} board={board} />
        ))}
      </ul>
      <h3 className="mt-6 mb-2 font-bold text-amber">Create a board</h3>
      <CreateBoardForm />
    </>
  );
}

// ── Users ──────────────────────────────────────────────────────────────────────────────────────

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
    mutationFn: (patch: Partial<Record<Flag, boolean>>) =>
      api<AdminUser>(`/api/admin/users/${encodeURIComponent(user.username)}/`, {
        method: 'PATCH',
        body: patch,
      }),
    onSuccess: (saved, patch) => {
      queryClient.setQueryData<InfiniteData<Page<AdminUser>>>(['admin', 'users'], (data) =>
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
      void queryClient.invalidateQueries({ queryKey: ['moderation', 'log'] });
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

function Users() {
  const session = useSession();
  const users = usePagedList<AdminUser>(['admin', 'users'], '/api/admin/users/', { limit: 50 });
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

// ── The screen ─────────────────────────────────────────────────────────────────────────────────

export function AdminScreen() {
  const session = useSession();
  const fresh = useProfile();
  const user = fresh.data ?? session?.user;
  if (user === undefined) return <Loading />;
  if (!user.is_sysop) {
    return (
      <Panel title="Administration" headingLevel={1}>
        <p>This page is for sysops only.</p>
      </Panel>
    );
  }
  return (
    <>
      <h1 className="mb-4 text-xl font-bold uppercase tracking-widest text-amber">
        Administration
      </h1>
      <Panel title="Instance identity">
        <InstanceIdentity />
      </Panel>
      <Panel title="Boards">
        <Boards />
      </Panel>
      <Panel title="Users">
        <Users />
      </Panel>
    </>
  );
}
