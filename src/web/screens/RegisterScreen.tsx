// Register: username, password (typed twice), nickname; the server's proof-of-work challenge,
// solved here with visible progress; then the recovery key, once.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { PASSWORD_MIN } from '../../shared/accounts';
import { solveProofOfWork } from '../../shared/proof-of-work';
import { registerAccount, registerChallenge } from '../api/accounts';
import { Button, TextInput } from '../ui/controls';
import { ErrorNotice, Notice } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { RecoveryKeyNotice } from './RecoveryKeyNotice';

/** The browser's own time zone, which the account starts with (changed later on the profile). */
function browserTimeZone(): { timezone?: string } {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone === undefined || zone === '' ? {} : { timezone: zone };
}

export function RegisterScreen() {
  const [form, setForm] = useState({ username: '', password: '', confirm: '', nickname: '' });
  const [mismatch, setMismatch] = useState(false);
  /** Share of the expected proof-of-work done (0–1), null when not solving. */
  const [proving, setProving] = useState<number | null>(null);
  const register = useMutation({
    mutationFn: async () => {
      const { challenge, difficulty } = await registerChallenge();
      setProving(0);
      let solution: string;
      try {
        // An async loop in batches: the page stays responsive and the bar moves.
        solution = await solveProofOfWork(challenge, difficulty, {
          onProgress: ({ tried, expected }) => setProving(Math.min(0.99, tried / expected)),
        });
      } finally {
        setProving(null);
      }
      return registerAccount({
        username: form.username,
        password: form.password,
        ...(form.nickname.trim() === '' ? {} : { nickname: form.nickname.trim() }),
        ...browserTimeZone(),
        challenge,
        solution,
      });
    },
  });
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setMismatch(form.password !== form.confirm);
    if (form.password === form.confirm) register.mutate();
  };

  if (register.data !== undefined) {
    const answer = register.data;
    return (
      <Panel title="Welcome aboard" headingLevel={1}>
        <RecoveryKeyNotice answer={answer} />
      </Panel>
    );
  }
  return (
    <Panel title="Register" headingLevel={1}>
      <Notice>
        Registering makes you a signing key: every message you post is signed with it. Creating it
        takes a few seconds.
      </Notice>
      <form onSubmit={submit} aria-label="Register" className="max-w-md">
        <TextInput
          label="Username"
          hint="3–32 letters, digits, _ . -"
          autoComplete="username"
          required
          minLength={3}
          maxLength={32}
          value={form.username}
          onChange={set('username')}
        />
        <TextInput
          label="Nickname"
          hint="How others see you (optional)"
          maxLength={50}
          value={form.nickname}
          onChange={set('nickname')}
        />
        <TextInput
          label="Password"
          hint={`At least ${PASSWORD_MIN} characters`}
          type="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN}
          value={form.password}
          onChange={set('password')}
        />
        <TextInput
          label="Repeat password"
          type="password"
          autoComplete="new-password"
          required
          value={form.confirm}
          onChange={set('confirm')}
          error={mismatch ? 'The two passwords differ.' : undefined}
        />
        <ErrorNotice error={register.error} />
        {proving !== null && (
          <p role="status" className="mb-2 text-sm">
            Proving this sign-up is not a flood (a short computation, so the server cannot be
            swamped by bots)…{' '}
            <progress max={1} value={proving} aria-label="Sign-up proof of work">
              {Math.round(proving * 100)}%
            </progress>
          </p>
        )}
        <Button type="submit" disabled={register.isPending}>
          {register.isPending ? (proving !== null ? 'Proving…' : 'Creating your key…') : 'Register'}
        </Button>
      </form>
      <p className="mt-4 text-sm">
        Already registered? <Link to="/login">Log in</Link>.
      </p>
    </Panel>
  );
}
