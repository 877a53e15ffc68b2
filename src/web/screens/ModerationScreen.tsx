// The moderators' desk: the report queue, bans of users and keys, karma changes and the modlog.
// Every section is on one page (with a jump list), so nothing a moderator needs is hidden.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../api/client';
import { useSession } from '../api/session';
import type { BannedPubkey, ModlogEntry, Profile, Report } from '../api/types';
import { Author } from '../ui/Author';
import { Button, Field, TextArea, TextInput } from '../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../ui/feedback';
import { ColumnHeads, LoadMore, usePagedList } from '../ui/paging';
import { Panel } from '../ui/Panel';
import { Fingerprint, Markdown, Time } from '../ui/text';
import { useProfile } from '../api/profile';

type ReportStatus = Report['status'];

const DURATIONS = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
  { label: 'For good', seconds: null },
] as const;
type DurationLabel = (typeof DURATIONS)[number]['label'];

const secondsOf = (label: DurationLabel) => DURATIONS.find((d) => d.label === label)!.seconds;
const refusal = (message: string) => new ApiError(0, 'INVALID_INPUT', message);
const userPath = (username: string, action: string) =>
  `/api/moderation/users/${encodeURIComponent(username.trim())}/${action}/`;

function DurationSelect({
  value,
  onChange,
}: {
  value: DurationLabel;
  onChange: (v: DurationLabel) => void;
}) {
  return (
    <Field label="Duration">
      {(ids) => (
        <select {...ids} value={value} onChange={(e) => onChange(e.target.value as DurationLabel)}>
          {DURATIONS.map((d) => (
            <option key={d.label} value={d.label}>
              {d.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Each action lands in the modlog; the log on this page follows. */
function useAfterAction() {
  const queryClient = useQueryClient();
  return (...keys: unknown[][]) => {
    for (const key of [['moderation', 'log'], ...keys]) {
      void queryClient.invalidateQueries({ queryKey: key });
    }
  };
}

// ── Reports ────────────────────────────────────────────────────────────────────────────────────

function ReportCard({ report, onResolved }: { report: Report; onResolved: (r: Report) => void }) {
  const [deleteMessage, setDeleteMessage] = useState(false);
  const [note, setNote] = useState('');
  const resolve = useMutation({
    mutationFn: (action: 'uphold' | 'dismiss') =>
      api<Report>(`/api/moderation/reports/${report.id}/resolve/`, {
        method: 'POST',
        body: {
          action,
          delete_message: action === 'uphold' && deleteMessage,
          note: note.trim() === '' ? null : note.trim(),
        },
      }),
    onSuccess: onResolved,
  });
  const { snapshot } = report;
  return (
    <article aria-label={`Report on “${snapshot.subject}”`} className="mb-3 border border-line p-3">
      <h3 className="font-bold text-amber">{snapshot.subject}</h3>
      <p className="text-sm text-phosphor-dim">
        by <Author nickname={snapshot.author_nickname} fingerprint={snapshot.author_fingerprint} />{' '}
        · reported <Time iso={report.created_at} />
      </p>
      <p className="my-2">
        <span className="text-amber">Reason:</span> {report.reason}
      </p>
      <div className="my-2 max-h-64 overflow-y-auto border-l-4 border-line pl-3">
        <Markdown source={snapshot.body} />
      </div>
      <p className="text-sm">
        {report.message_exists ? (
          <Link to={`/messages/${report.message_id}`}>Open the message</Link>
        ) : (
          <span className="text-phosphor-dim">The message has been deleted.</span>
        )}
      </p>
      {report.status === 'open' ? (
        <form aria-label="Resolve report" className="mt-3" onSubmit={(e) => e.preventDefault()}>
          <label className="mb-2 flex items-center gap-2">
            <input
              type="checkbox"
              checked={deleteMessage}
              disabled={!report.message_exists}
              onChange={(e) => setDeleteMessage(e.target.checked)}
            />
            Delete the message (when upholding)
          </label>
          <TextInput
            label="Note"
            maxLength={500}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            hint="Optional; kept with the decision and in the modlog."
          />
          <ErrorNotice error={resolve.error} />
          <div className="flex flex-wrap gap-2">
            <Button disabled={resolve.isPending} onClick={() => resolve.mutate('uphold')}>
              Uphold
            </Button>
            <Button
              variant="plain"
              disabled={resolve.isPending}
              onClick={() => resolve.mutate('dismiss')}
            >
              Dismiss
            </Button>
          </div>
        </form>
      ) : (
        <p className="mt-2 text-sm">
          <span className="uppercase text-amber">{report.status}</span>
          {report.resolved_at !== null && (
            <>
              {' '}
              <Time iso={report.resolved_at} />
            </>
          )}
          {report.resolution_note !== null && <> — {report.resolution_note}</>}
        </p>
      )}
    </article>
  );
}

function ReportsSection() {
  const [status, setStatus] = useState<ReportStatus>('open');
  const [done, setDone] = useState<string | null>(null);
  const reports = usePagedList<Report>(
    ['moderation', 'reports', status],
    '/api/moderation/reports/',
    { query: { status } },
  );
  const afterAction = useAfterAction();
  const resolved = (report: Report) => {
    setDone(
      report.status === 'upheld'
        ? `Report on “${report.snapshot.subject}” upheld${report.message_exists ? '' : '; the message is deleted'}.`
        : `Report on “${report.snapshot.subject}” dismissed.`,
    );
    afterAction(['moderation', 'reports']);
  };
  const items = reports.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <Field label="Status">
        {(ids) => (
          <select
            {...ids}
            className="max-w-xs"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as ReportStatus);
              setDone(null);
            }}
          >
            <option value="open">Open</option>
            <option value="upheld">Upheld</option>
            <option value="dismissed">Dismissed</option>
          </select>
        )}
      </Field>
      {done !== null && <Notice>{done}</Notice>}
      <ErrorNotice error={reports.error} />
      {reports.isPending && <Loading what="Loading reports" />}
      {reports.isSuccess && items.length === 0 && (
        <Empty>{status === 'open' ? 'No open reports. All quiet.' : `No ${status} reports.`}</Empty>
      )}
      {items.map((report) => (
        <ReportCard key={report.id} report={report} onResolved={resolved} />
      ))}
      <LoadMore list={reports} />
    </>
  );
}

// ── Bans ───────────────────────────────────────────────────────────────────────────────────────

/** Why and for how long: what every ban asks, of a user or of a key. */
function BanTerms({
  reason,
  onReason,
  duration,
  onDuration,
}: {
  reason: string;
  onReason: (reason: string) => void;
  duration: DurationLabel;
  onDuration: (duration: DurationLabel) => void;
}) {
  return (
    <>
      <TextInput
        label="Reason"
        required
        maxLength={500}
        value={reason}
        onChange={(e) => onReason(e.target.value)}
      />
      <DurationSelect value={duration} onChange={onDuration} />
    </>
  );
}

/** The part of a mutation an action form shows: its answer, its error, whether it is on its way. */
interface Action<T> {
  data: T | undefined;
  error: unknown;
  isPending: boolean;
  reset(): void;
}

/**
 * The shell every moderation command shares: a labelled form (with that label as its heading when
 * `heading`), its fields, the error, a notice of what was done (gone again once the form is edited)
 * and the submit button.
 */
function ActionForm<T>({
  label,
  heading = false,
  className,
  action,
  error = action.error,
  done,
  submit,
  submitLabel,
  danger = false,
  children,
}: {
  label: string;
  heading?: boolean;
  className: string;
  action: Action<T>;
  /** What to show as the error, when the form checks something itself first. */
  error?: unknown;
  done: (data: T) => ReactNode;
  submit: () => void;
  submitLabel: string;
  danger?: boolean;
  children: ReactNode;
}) {
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };
  return (
    <form
      aria-label={label}
      onSubmit={onSubmit}
      onChange={() => action.data !== undefined && action.reset()}
      className={className}
    >
      {heading && <h3 className="mb-2 font-bold text-amber">{label}</h3>}
      {children}
      <ErrorNotice error={error} />
      {action.data !== undefined && <Notice>{done(action.data)}</Notice>}
      <Button type="submit" variant={danger ? 'danger' : 'primary'} disabled={action.isPending}>
        {submitLabel}
      </Button>
    </form>
  );
}

function UsernameInput({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <TextInput
      label="Username"
      required
      autoComplete="off"
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

function BanUserForm() {
  const [username, setUsername] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState<DurationLabel>('1 day');
  const afterAction = useAfterAction();
  const ban = useMutation({
    mutationFn: () =>
      api<Profile & { is_banned: boolean; banned_until: string | null }>(
        userPath(username, 'ban'),
        { method: 'POST', body: { reason, duration_seconds: secondsOf(duration) } },
      ),
    onSuccess: () => {
      setUsername('');
      setReason('');
      afterAction(['admin', 'users']);
    },
  });
  return (
    <ActionForm
      label="Ban a user"
      heading
      className="min-w-0 flex-1 basis-72"
      action={ban}
      submit={() => ban.mutate()}
      submitLabel="Ban"
      danger
      done={(banned) => (
        <>
          {banned.username} is banned{' '}
          {banned.banned_until === null ? (
            'for good'
          ) : (
            <>
              until <Time iso={banned.banned_until} />
            </>
          )}
          ; their sessions have ended.
        </>
      )}
    >
      <UsernameInput value={username} onChange={setUsername} />
      <BanTerms reason={reason} onReason={setReason} duration={duration} onDuration={setDuration} />
    </ActionForm>
  );
}

function UnbanUserForm() {
  const [username, setUsername] = useState('');
  const afterAction = useAfterAction();
  const unban = useMutation({
    mutationFn: () => api<Profile>(userPath(username, 'unban'), { method: 'POST' }),
    onSuccess: () => {
      setUsername('');
      afterAction(['admin', 'users']);
    },
  });
  return (
    <ActionForm
      label="Lift a ban"
      heading
      className="min-w-0 flex-1 basis-72"
      action={unban}
      submit={() => unban.mutate()}
      submitLabel="Unban"
      done={(user) => <>{user.username} is no longer banned.</>}
    >
      <UsernameInput value={username} onChange={setUsername} />
    </ActionForm>
  );
}

function BanKeyForm() {
  const [pubkey, setPubkey] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState<DurationLabel>('For good');
  const afterAction = useAfterAction();
  const ban = useMutation({
    mutationFn: () =>
      api<BannedPubkey>('/api/moderation/banned_pubkeys/', {
        method: 'POST',
        body: { pubkey: pubkey.trim(), reason, duration_seconds: secondsOf(duration) },
      }),
    onSuccess: () => {
      setPubkey('');
      setReason('');
      afterAction(['moderation', 'banned-keys']);
    },
  });
  return (
    <ActionForm
      label="Ban a key"
      className="max-w-2xl"
      action={ban}
      submit={() => ban.mutate()}
      submitLabel="Ban key"
      danger
      done={(banned) => (
        <>
          Key <Fingerprint value={banned.fingerprint} /> is banned.
        </>
      )}
    >
      <TextArea
        label="Public key"
        rows={4}
        required
        maxLength={4096}
        spellCheck={false}
        className="font-mono text-sm"
        value={pubkey}
        onChange={(e) => setPubkey(e.target.value)}
        hint="PEM, base64 DER, or the 64-hex fingerprint. Content signed by this key is refused, here and from peers."
      />
      <BanTerms reason={reason} onReason={setReason} duration={duration} onDuration={setDuration} />
    </ActionForm>
  );
}

function BannedKeyRow({ ban }: { ban: BannedPubkey }) {
  const afterAction = useAfterAction();
  const unban = useMutation({
    mutationFn: () =>
      api(`/api/moderation/banned_pubkeys/${ban.fingerprint}/`, { method: 'DELETE' }),
    onSuccess: () => afterAction(['moderation', 'banned-keys']),
  });
  return (
    <li className="flex flex-wrap items-start justify-between gap-2 py-2">
      <div className="min-w-0 flex-1 basis-64">
        <Fingerprint value={ban.fingerprint} />
        <p className="text-sm">
          <span className="text-amber">Reason:</span> {ban.reason}
        </p>
        <p className="text-xs text-phosphor-dim">
          Banned <Time iso={ban.created_at} />
          {' · '}
          {ban.expires_at === null ? (
            'for good'
          ) : (
            <>
              until <Time iso={ban.expires_at} />
            </>
          )}
        </p>
        <ErrorNotice error={unban.error} />
      </div>
      <Button variant="plain" disabled={unban.isPending} onClick={() => unban.mutate()}>
        Unban
      </Button>
    </li>
  );
}

function BannedKeys() {
  const keys = usePagedList<BannedPubkey>(
    ['moderation', 'banned-keys'],
    '/api/moderation/banned_pubkeys/',
  );
  const items = keys.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <ErrorNotice error={keys.error} />
      {keys.isPending && <Loading what="Loading banned keys" />}
      {keys.isSuccess && items.length === 0 && <Empty>No keys are banned.</Empty>}
      <ul aria-label="Banned keys" className="divide-y divide-line">
        {items.map((ban) => (
          <BannedKeyRow key={ban.fingerprint} ban={ban} />
        ))}
      </ul>
      <LoadMore list={keys} />
    </>
  );
}

// ── Karma ──────────────────────────────────────────────────────────────────────────────────────

function KarmaForm() {
  const [username, setUsername] = useState('');
  const [delta, setDelta] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const afterAction = useAfterAction();
  const apply = useMutation({
    mutationFn: (change: number) =>
      api<Profile>(userPath(username, 'karma'), {
        method: 'POST',
        body: { delta: change, reason },
      }),
    onSuccess: () => {
      setDelta('');
      setReason('');
      afterAction(['admin', 'users']);
    },
  });
  const submit = () => {
    apply.reset();
    const change = Number(delta);
    if (
      delta.trim() === '' ||
      !Number.isInteger(change) ||
      change === 0 ||
      Math.abs(change) > 1000
    ) {
      setProblem(
        refusal(
          'The karma change must be a whole number from −1000 to 1000 other than 0, such as 5 or -3.',
        ),
      );
      return;
    }
    setProblem(null);
    apply.mutate(change);
  };
  return (
    <ActionForm
      label="Adjust karma"
      className="max-w-md"
      action={apply}
      error={problem ?? apply.error}
      submit={submit}
      submitLabel="Apply karma"
      done={(user) => (
        <>
          {user.username} now has {user.karma} karma.
        </>
      )}
    >
      <UsernameInput value={username} onChange={setUsername} />
      <TextInput
        label="Karma change"
        inputMode="numeric"
        autoComplete="off"
        required
        value={delta}
        onChange={(e) => setDelta(e.target.value)}
        hint="A whole number; negative takes karma away (−1000 to 1000)."
      />
      <TextInput
        label="Reason"
        required
        maxLength={500}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
      />
    </ActionForm>
  );
}

// ── Modlog ─────────────────────────────────────────────────────────────────────────────────────

function targetOf(entry: ModlogEntry): string {
  const name = entry.details.username;
  if (typeof name === 'string') return `${entry.target_type} ${name}`;
  return `${entry.target_type} ${entry.target_id.slice(0, 12)}`;
}

function Modlog() {
  const log = usePagedList<ModlogEntry>(['moderation', 'log'], '/api/moderation/log/');
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <ErrorNotice error={log.error} />
      {log.isPending && <Loading what="Loading the modlog" />}
      {log.isSuccess && items.length === 0 && <Empty>No moderation actions yet.</Empty>}
      {items.length > 0 && (
        <div className="relative overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <caption className="sr-only">Moderation log, newest first</caption>
            <ColumnHeads names={['Time', 'Actor', 'Action', 'Target', 'Reason']} />
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id} className="border-b border-line align-top">
                  <td className="whitespace-nowrap p-1">
                    <Time iso={entry.created_at} />
                  </td>
                  <td className="p-1">{entry.actor.name}</td>
                  <td className="p-1">{entry.action.replace(/_/g, ' ')}</td>
                  <td className="break-all p-1">{targetOf(entry)}</td>
                  <td className="p-1">{entry.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={log} />
    </>
  );
}

// ── The screen ─────────────────────────────────────────────────────────────────────────────────

const SECTIONS: { id: string; title: string; body: () => ReactNode }[] = [
  { id: 'reports', title: 'Reports', body: () => <ReportsSection /> },
  {
    id: 'bans',
    title: 'Bans',
    body: () => (
      <>
        <div className="flex flex-wrap gap-6">
          <BanUserForm />
          <UnbanUserForm />
        </div>
        <h3 className="mt-6 mb-2 font-bold text-amber">Banned keys</h3>
        <BannedKeys />
        <h3 className="mt-6 mb-2 font-bold text-amber">Ban a key</h3>
        <BanKeyForm />
      </>
    ),
  },
  { id: 'karma', title: 'Karma', body: () => <KarmaForm /> },
  { id: 'modlog', title: 'Modlog', body: () => <Modlog /> },
];

export function ModerationScreen() {
  const session = useSession();
  const fresh = useProfile();
  const user = fresh.data ?? session?.user;
  if (user === undefined) return <Loading />;
  if (!user.is_moderator && !user.is_sysop) {
    return (
      <Panel title="Moderation" headingLevel={1}>
        <p>
          This page is for moderators only. If you think you should be one, ask a sysop of this
          instance.
        </p>
      </Panel>
    );
  }
  return (
    <>
      <h1 className="mb-2 text-xl font-bold uppercase tracking-widest text-amber">Moderation</h1>
      <nav aria-label="Moderation sections" className="mb-4">
        <ul className="flex flex-wrap gap-3 text-sm">
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={`#${s.id}`}>{s.title}</a>
            </li>
          ))}
        </ul>
      </nav>
      {SECTIONS.map((s) => (
        <div key={s.id} id={s.id} className="scroll-mt-4">
          <Panel title={s.title}>{s.body()}</Panel>
        </div>
      ))}
    </>
  );
}
