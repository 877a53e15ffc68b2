// The boards: create one, change who may read and post, archive, order.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { ACCESS_LEVELS } from '../../../shared/accounts';
import { createBoard, updateBoard, useAllBoards } from '../../api/admin';
import { ApiError } from '../../api/client';
import type { AccessLevel, Board, BoardInput, BoardPatch } from '../../api/types';
import { Button, Field, TextArea, TextInput } from '../../ui/controls';
import { Empty, ErrorNotice, Loading, Notice, refusal } from '../../ui/feedback';
import { queryKeys } from '../../api/keys';
import { usePeers } from '../../api/federation';

interface BoardDraft {
  name: string;
  description: string;
  is_realtime: boolean;
  read_access: AccessLevel;
  post_access: AccessLevel;
  thread_order: Board['thread_order'];
  /** Days as typed; empty keeps messages forever. */
  retention: string;
  position: string;
  is_archived: boolean;
  /** Empty: the board is not shared with other instances. */
  federation_room_id: string;
  trusted_peers: string[];
  /** The peer whose board created the room (its shared state's single writer); '' for here. */
  federation_home: string;
}

const NEW_BOARD: BoardDraft = {
  name: '',
  description: '',
  is_realtime: false,
  read_access: 'public',
  post_access: 'members',
  thread_order: 'activity',
  retention: '',
  position: '0',
  is_archived: false,
  federation_room_id: '',
  trusted_peers: [],
  federation_home: '',
};

function draftOf(board: Board): BoardDraft {
  return {
    name: board.name,
    description: board.description,
    is_realtime: board.is_realtime,
    read_access: board.read_access,
    post_access: board.post_access,
    thread_order: board.thread_order,
    retention: board.message_retention_days === null ? '' : String(board.message_retention_days),
    position: String(board.position),
    is_archived: board.is_archived,
    federation_room_id: board.federation_room_id ?? '',
    trusted_peers: board.trusted_peers,
    federation_home: board.federation_home ?? '',
  };
}

/** Every field the form edits, as the API takes it. */
type BoardFields = Required<BoardPatch>;

/** The draft as the API's fields, or the first problem a person should fix. */
function fieldsOf(draft: BoardDraft): BoardFields | ApiError {
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
    thread_order: draft.thread_order,
    message_retention_days: retention,
    position,
    is_archived: draft.is_archived,
    federation_room_id:
      draft.federation_room_id.trim() === '' ? null : draft.federation_room_id.trim(),
    trusted_peers: draft.trusted_peers,
    federation_home:
      draft.federation_home !== '' && draft.trusted_peers.includes(draft.federation_home)
        ? draft.federation_home
        : null,
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

/**
 * Sharing a board with peers: the room id the instances agree on, and which peers of the registry
 * it is shared with (a fingerprint no longer in the registry stays listed until unticked).
 */
function SharingFields({
  draft,
  set,
}: {
  draft: BoardDraft;
  set: <K extends keyof BoardDraft>(key: K, value: BoardDraft[K]) => void;
}) {
  const peers = usePeers();
  const known = new Map((peers.data?.items ?? []).map((p) => [p.fingerprint, p.nickname]));
  const listed = [...new Set([...known.keys(), ...draft.trusted_peers])];
  const toggle = (fingerprint: string, on: boolean) =>
    set(
      'trusted_peers',
      on
        ? [...draft.trusted_peers, fingerprint]
        : draft.trusted_peers.filter((f) => f !== fingerprint),
    );
  return (
    <fieldset className="mb-3 border border-line p-2">
      <legend className="px-1 text-sm uppercase tracking-wide text-amber">Federation</legend>
      <TextInput
        label="Federation room id"
        maxLength={100}
        value={draft.federation_room_id}
        onChange={(e) => set('federation_room_id', e.target.value)}
        hint="The same id on every instance sharing this board (letters, digits, _ . : -). Empty: not shared."
      />
      <ErrorNotice error={peers.error} />
      {listed.length === 0 ? (
        <p className="text-xs text-phosphor-dim">No peers yet: add them under Federation.</p>
      ) : (
        <div role="group" aria-label="Shared with peers" className="flex flex-wrap gap-x-6">
          {listed.map((fingerprint) => (
            <Checkbox
              key={fingerprint}
              label={`Shared with ${known.get(fingerprint) ?? `${fingerprint.slice(0, 16)}… (not in the registry)`}`}
              checked={draft.trusted_peers.includes(fingerprint)}
              onChange={(on) => toggle(fingerprint, on)}
            />
          ))}
        </div>
      )}
      <Field label="Home of the room (writes its shared state)">
        {(ids) => (
          <select
            {...ids}
            value={draft.federation_home}
            onChange={(e) => set('federation_home', e.target.value)}
          >
            <option value="">This instance (it created the room)</option>
            {draft.trusted_peers.map((fingerprint) => (
              <option key={fingerprint} value={fingerprint}>
                {known.get(fingerprint) ?? `${fingerprint.slice(0, 16)}…`}
              </option>
            ))}
          </select>
        )}
      </Field>
    </fieldset>
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
        <Field label="Threads listed">
          {(ids) => (
            <select
              {...ids}
              value={draft.thread_order}
              onChange={(e) => set('thread_order', e.target.value as Board['thread_order'])}
            >
              <option value="activity">by latest post</option>
              <option value="created">by when they were started</option>
            </select>
          )}
        </Field>
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
      <SharingFields draft={draft} set={set} />
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
    void queryClient.invalidateQueries({ queryKey: queryKeys.boards });
    void queryClient.invalidateQueries({ queryKey: queryKeys.board(board.id) });
  };
}

function CreateBoardForm() {
  const { draft, set, reset } = useBoardDraft(NEW_BOARD);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const changed = useBoardsChanged();
  const create = useMutation({
    mutationFn: (fields: BoardInput) => createBoard(fields),
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
    mutationFn: (fields: BoardPatch) => updateBoard(board.id, fields),
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
        ([key, value]) =>
          before instanceof ApiError ||
          JSON.stringify(before[key as keyof BoardFields]) !== JSON.stringify(value),
      ),
    ) as BoardPatch;
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

export function BoardsSection() {
  const boards = useAllBoards();
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
