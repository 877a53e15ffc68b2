// The pieces the moderation sections share: ban durations, the form every action is, and the
// refresh of the modlog after each action.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode } from 'react';
import { Button, Field, TextInput } from '../../ui/controls';
import { ErrorNotice, Notice } from '../../ui/feedback';
import { queryKeys } from '../../api/keys';

const DURATIONS = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
  { label: 'For good', seconds: null },
] as const;
export type DurationLabel = (typeof DURATIONS)[number]['label'];

export const secondsOf = (label: DurationLabel) =>
  DURATIONS.find((d) => d.label === label)!.seconds;

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
export function useAfterAction() {
  const queryClient = useQueryClient();
  return (...keys: (readonly unknown[])[]) => {
    for (const key of [queryKeys.modlog, ...keys]) {
      void queryClient.invalidateQueries({ queryKey: key });
    }
  };
}

/** Why and for how long: what every ban asks, of a user or of a key. */
export function BanTerms({
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
export function ActionForm<T>({
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

export function UsernameInput({
  value,
  onChange,
}: {
  value: string;
  onChange: (v: string) => void;
}) {
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
