// The recovery key, shown once: the reader must say they saved it before going on, and is then
// signed in with the session that came with it.
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { sessionStore } from '../api/session';
import type { RegisterAnswer } from '../api/types';
import { Button } from '../ui/controls';

export function RecoveryKeyNotice({ answer }: { answer: RegisterAnswer }) {
  const navigate = useNavigate();
  const recoveryKey = answer.recovery_key;
  const onDone = () => {
    sessionStore.signIn(answer.token, answer.expires_at, answer.user);
    navigate('/boards');
  };
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(recoveryKey);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div role="region" aria-label="Your recovery key">
      <p className="mb-2">
        This is your <strong>recovery key</strong>. It is the only way back into your account if you
        forget your password. It is shown <strong>once</strong>: write it down or store it in a
        password manager now.
      </p>
      <pre
        data-testid="recovery-key"
        className="my-3 select-all border border-amber bg-panel p-3 text-lg break-all whitespace-pre-wrap text-amber"
      >
        {recoveryKey}
      </pre>
      <p className="mb-3">
        <Button variant="plain" onClick={() => void copy()}>
          Copy
        </Button>
        {copied && (
          <span role="status" className="ml-2 text-sm">
            Copied.
          </span>
        )}
      </p>
      <label className="mb-3 flex items-center gap-2">
        <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />I
        saved my recovery key
      </label>
      <Button disabled={!saved} onClick={onDone}>
        Continue
      </Button>
    </div>
  );
}
