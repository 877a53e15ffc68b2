// Log in. A session that ended elsewhere lands here with a notice, and goes back where it was.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { logIn } from '../api/accounts';
import { sessionStore } from '../api/session';
import type { LoginState } from '../App';
import { Button, TextInput } from '../ui/controls';
import { ErrorNotice, Notice } from '../ui/feedback';
import { Panel } from '../ui/Panel';

export function LoginScreen() {
  const navigate = useNavigate();
  const state = (useLocation().state ?? {}) as LoginState;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [notice] = useState(sessionStore.endNotice);
  const login = useMutation({
    mutationFn: () => logIn({ username, password }),
    onSuccess: (answer) => {
      sessionStore.signIn(answer.token, answer.expires_at, answer.user);
      navigate(state.from ?? '/boards', { replace: true });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate();
  };
  return (
    <Panel title="Log in" headingLevel={1}>
      {notice !== null && <Notice>{notice} Anything you were writing is kept.</Notice>}
      <form onSubmit={submit} aria-label="Log in" className="max-w-md">
        <TextInput
          label="Username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <TextInput
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorNotice error={login.error} />
        <Button type="submit" disabled={login.isPending}>
          {login.isPending ? 'Logging in…' : 'Log in'}
        </Button>
      </form>
      <p className="mt-4 text-sm">
        New here? <Link to="/register">Register</Link>. Lost your password?{' '}
        <Link to="/recover">Use your recovery key</Link>.
      </p>
    </Panel>
  );
}
