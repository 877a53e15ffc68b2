// Karma: a moderator gives or takes away karma, with a reason for the modlog.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../../api/client';
import { queryKeys } from '../../api/keys';
import { changeKarma } from '../../api/moderation';
import { TextInput } from '../../ui/controls';
import { refusal } from '../../ui/feedback';
import { ActionForm, UsernameInput, useAfterAction } from './forms';

export function KarmaSection() {
  const [username, setUsername] = useState('');
  const [delta, setDelta] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const afterAction = useAfterAction();
  const apply = useMutation({
    mutationFn: (change: number) => changeKarma(username, { delta: change, reason }),
    onSuccess: () => {
      setDelta('');
      setReason('');
      afterAction(queryKeys.adminUsers);
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
