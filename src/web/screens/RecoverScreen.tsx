// Recover an account with its recovery key: a new password, and a new recovery key (shown once).
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { PASSWORD_MIN } from '../../shared/accounts';
import { recoverAccount } from '../api/accounts';
import { Button, TextInput } from '../ui/controls';
import { ErrorNotice } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { RecoveryKeyNotice } from './RecoveryKeyNotice';

export function RecoverScreen() {
  const [form, setForm] = useState({ username: '', recovery_key: '', new_password: '' });
  const recover = useMutation({
    mutationFn: () => recoverAccount({ ...form, recovery_key: form.recovery_key.trim() }),
  });
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    recover.mutate();
  };
  if (recover.data !== undefined) {
    const answer = recover.data;
    return (
      <Panel title="Recovered" headingLevel={1}>
        <p className="mb-3">Your password is changed and your old recovery key no longer works.</p>
        <RecoveryKeyNotice answer={answer} />
      </Panel>
    );
  }
  return (
    <Panel title="Recover your account" headingLevel={1}>
      <form onSubmit={submit} aria-label="Recover your account" className="max-w-md">
        <TextInput
          label="Username"
          autoComplete="username"
          required
          value={form.username}
          onChange={set('username')}
        />
        <TextInput
          label="Recovery key"
          required
          autoComplete="off"
          value={form.recovery_key}
          onChange={set('recovery_key')}
        />
        <TextInput
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN}
          value={form.new_password}
          onChange={set('new_password')}
        />
        <ErrorNotice error={recover.error} />
        <Button type="submit" disabled={recover.isPending}>
          {recover.isPending ? 'Recovering…' : 'Recover'}
        </Button>
      </form>
    </Panel>
  );
}
