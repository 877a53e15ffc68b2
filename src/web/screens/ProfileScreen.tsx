// Your own account: who you are on this instance (username, key fingerprint, karma, roles), and the
// things you may change yourself — nickname, time zone, avatar and password.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { AVATAR_MAX_BYTES, AVATAR_TYPES, PASSWORD_MIN } from '../../shared/accounts';
import { ApiError } from '../api/client';
import { queryKeys } from '../api/keys';
import {
  changePassword,
  removeAvatar,
  saveProfile,
  uploadAvatar,
  useProfile,
} from '../api/profile';
import { sessionStore, useSession } from '../api/session';
import type { Profile } from '../api/types';
import { formatBytes } from '../api/transfers';
import { Button, Field, TextInput } from '../ui/controls';
import { ErrorNotice, Loading, Notice, refusal } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Fingerprint, Time } from '../ui/text';

/**
 * The signed-in profile, fresh from the server: roles granted or taken away since login show up
 * (and reach the navigation) without logging in again.
 */
function roleNames(profile: Profile): string {
  const roles = [
    profile.is_sysop && 'sysop',
    profile.is_moderator && 'moderator',
    profile.is_agent && 'agent',
  ].filter(Boolean);
  const limits = [!profile.can_post && 'may not post', !profile.can_upload && 'may not upload'];
  return [...(roles.length > 0 ? roles : ['member']), ...limits.filter(Boolean)].join(', ');
}

function Identity({ profile }: { profile: Profile }) {
  const rows: [string, ReactNode][] = [
    ['Username', profile.username],
    ['Nickname', profile.nickname],
    ['Key fingerprint', <Fingerprint key="fp" value={profile.fingerprint} />],
    ['Karma', profile.karma],
    ['Roles', roleNames(profile)],
    ['Member since', <Time key="since" iso={profile.created_at} />],
  ];
  return (
    <dl className="grid grid-cols-1 gap-x-4 gap-y-1 sm:grid-cols-[max-content_1fr]">
      {rows.map(([term, value]) => (
        <div key={term} className="contents">
          <dt className="text-sm uppercase tracking-wide text-amber">{term}</dt>
          <dd className="mb-2 min-w-0 sm:mb-0">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Every zone the browser knows, with the current one kept even if the list leaves it out. */
function timeZoneNames(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    // An old browser: the current zone and UTC still make a usable list.
  }
  return [...new Set([current, 'UTC', ...zones])].sort((a, b) => a.localeCompare(b));
}

function ProfileForm({ profile, onSaved }: { profile: Profile; onSaved: (p: Profile) => void }) {
  const [nickname, setNickname] = useState(profile.nickname);
  const [timezone, setTimezone] = useState(profile.timezone);
  const zones = useMemo(() => timeZoneNames(profile.timezone), [profile.timezone]);
  const save = useMutation({
    mutationFn: () => saveProfile({ nickname, timezone }),
    onSuccess: onSaved,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form aria-label="Nickname and time zone" onSubmit={submit} className="max-w-md">
      <TextInput
        label="Nickname"
        required
        maxLength={50}
        value={nickname}
        onChange={(e) => setNickname(e.target.value)}
        hint="The name shown with your messages. It need not be unique."
      />
      <Field label="Time zone" hint="Times on every screen are shown in this zone.">
        {(ids) => (
          <select {...ids} value={timezone} onChange={(e) => setTimezone(e.target.value)}>
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ErrorNotice error={save.error} />
      {save.isSuccess && <Notice>Profile saved.</Notice>}
      <Button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save profile'}
      </Button>
    </form>
  );
}

function AvatarForm({ profile, onSaved }: { profile: Profile; onSaved: (p: Profile) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const upload = useMutation({
    mutationFn: uploadAvatar,
    onSuccess: (saved) => {
      onSaved(saved);
      setFile(null);
      if (input.current !== null) input.current.value = '';
      setDone('Avatar saved.');
    },
  });
  const remove = useMutation({
    mutationFn: removeAvatar,
    onSuccess: (saved) => {
      onSaved(saved);
      setDone('Avatar removed.');
    },
  });
  const choose = (chosen: File | null) => {
    setDone(null);
    upload.reset();
    remove.reset();
    setFile(chosen);
    if (chosen === null) setProblem(null);
    else if (!AVATAR_TYPES.includes(chosen.type)) {
      setProblem(refusal('An avatar must be a PNG, JPEG, GIF or WebP image.'));
    } else if (chosen.size > AVATAR_MAX_BYTES) {
      setProblem(
        refusal(
          `That image is ${formatBytes(chosen.size)}; an avatar may be at most ${formatBytes(AVATAR_MAX_BYTES)}.`,
        ),
      );
    } else setProblem(null);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    if (file === null) setProblem(refusal('Choose an image first.'));
    else if (problem === null) upload.mutate(file);
  };
  return (
    <div className="flex flex-wrap items-start gap-4">
      <div className="flex h-32 w-32 shrink-0 items-center justify-center border border-line bg-panel">
        {profile.avatar_url === null ? (
          <span className="p-2 text-center text-sm text-phosphor-dim">No avatar</span>
        ) : (
          <img
            src={profile.avatar_url}
            alt="Your avatar"
            className="max-h-full max-w-full object-contain"
          />
        )}
      </div>
      <form aria-label="Avatar" onSubmit={submit} className="min-w-0 flex-1 basis-64">
        <Field
          label="New avatar"
          hint={`PNG, JPEG, GIF or WebP, at most ${formatBytes(AVATAR_MAX_BYTES)}.`}
        >
          {(ids) => (
            <input
              {...ids}
              ref={input}
              type="file"
              accept={AVATAR_TYPES.join(',')}
              className="max-w-full"
              onChange={(e) => choose(e.target.files?.[0] ?? null)}
            />
          )}
        </Field>
        <ErrorNotice error={problem ?? upload.error ?? remove.error} />
        {done !== null && <Notice>{done}</Notice>}
        <div className="flex flex-wrap gap-2">
          <Button type="submit" disabled={upload.isPending || problem !== null}>
            {upload.isPending ? 'Uploading…' : 'Upload avatar'}
          </Button>
          {profile.avatar_url !== null && (
            <Button variant="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
              {remove.isPending ? 'Removing…' : 'Remove avatar'}
            </Button>
          )}
        </div>
      </form>
    </div>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const change = useMutation({
    mutationFn: () => changePassword({ current_password: current, new_password: next }),
    onSuccess: (answer) => {
      sessionStore.updateToken(answer.token, answer.expires_at);
      setCurrent('');
      setNext('');
      setConfirm('');
    },
  });
  const mismatch = confirm !== '' && confirm !== next;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.reset();
    if (next.length < PASSWORD_MIN) {
      setProblem(refusal(`The new password must be at least ${PASSWORD_MIN} characters.`));
    } else if (next !== confirm) {
      setProblem(refusal('The new password and its confirmation differ.'));
    } else {
      setProblem(null);
      change.mutate();
    }
  };
  return (
    <form aria-label="Change password" onSubmit={submit} className="max-w-md">
      <TextInput
        label="Current password"
        type="password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
      />
      <TextInput
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN}
        value={next}
        onChange={(e) => setNext(e.target.value)}
        hint={`At least ${PASSWORD_MIN} characters.`}
      />
      <TextInput
        label="Confirm new password"
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
        error={mismatch ? 'Does not match the new password.' : undefined}
      />
      <ErrorNotice error={problem ?? change.error} />
      {change.isSuccess && (
        <Notice>Password changed. Every other session of yours has been signed out.</Notice>
      )}
      <Button type="submit" disabled={change.isPending}>
        {change.isPending ? 'Changing…' : 'Change password'}
      </Button>
    </form>
  );
}

export function ProfileScreen() {
  const session = useSession();
  const queryClient = useQueryClient();
  const fresh = useProfile();
  const profile = fresh.data ?? session?.user;
  const saved = (next: Profile) => {
    sessionStore.updateUser(next);
    queryClient.setQueryData(queryKeys.profile, next);
  };
  if (profile === undefined) {
    return fresh.isPending ? (
      <Loading what="Loading your profile" />
    ) : (
      <ErrorNotice error={fresh.error} />
    );
  }
  return (
    <>
      <Panel title="Your profile" headingLevel={1}>
        <ErrorNotice error={fresh.error} />
        <Identity profile={profile} />
      </Panel>
      <Panel title="Nickname and time zone">
        <ProfileForm key={profile.id} profile={profile} onSaved={saved} />
      </Panel>
      <Panel title="Avatar">
        <AvatarForm profile={profile} onSaved={saved} />
      </Panel>
      <Panel title="Password">
        <p className="mb-3 text-sm text-phosphor-dim">
          Changing your password signs out every other session; this one stays signed in.
        </p>
        <PasswordForm />
      </Panel>
    </>
  );
}
