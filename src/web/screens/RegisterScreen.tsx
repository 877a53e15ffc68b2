// Register: username, password (typed twice), nickname; then the recovery key, once.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { PASSWORD_MIN } from '../../shared/accounts';
import { registerAccount } from '../api/accounts';
import { Button, TextInput } from '../ui/controls';
import { ErrorNotice, Notice } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { RecoveryKeyNotice } from './RecoveryKeyNotice';

export function RegisterScreen() {
  const [form, setForm] = useState({ username: '', password: '', confirm: '', nickname: '' });
  const [mismatch, setMismatch] = useState(false);
  const register = useMutation({
    mutationFn: () =>
      registerAccount({
        username: form.username,
        password: form.password,
        ...(form.nickname.trim() === '' ? {} : { nickname: form.nickname.trim() }),
      }),
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
        <Button type="submit" disabled={register.isPending}>
          {register.isPending ? 'Creating your key…' : 'Register'}
        </Button>
      </form>
      <p className="mt-4 text-sm">
        Already registered? <Link to="/login">Log in</Link>.
      </p>
    </Panel>
  );
}
