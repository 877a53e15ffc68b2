// Form controls with their labels: every input has a visible label tied to it, and its error is
// announced to screen readers.
import { useId, type ComponentProps, type ReactNode } from 'react';

type ButtonProps = ComponentProps<'button'> & { variant?: 'primary' | 'plain' | 'danger' };

export function Button({ variant = 'primary', className = '', ...props }: ButtonProps) {
  const look = {
    primary: 'border-phosphor bg-phosphor/10 text-phosphor hover:bg-phosphor hover:text-black',
    plain: 'border-line text-phosphor hover:border-phosphor',
    danger: 'border-red-500 text-red-300 hover:bg-red-500 hover:text-black',
  }[variant];
  return (
    <button
      type="button"
      className={`cursor-pointer border px-3 py-1 uppercase tracking-wide disabled:cursor-not-allowed disabled:opacity-50 ${look} ${className}`}
      {...props}
    />
  );
}

interface FieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (props: {
    id: string;
    'aria-describedby'?: string;
    'aria-invalid'?: boolean;
  }) => ReactNode;
}

/** A labelled control: `children` renders the control with the ids that tie it to its label. */
export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint === undefined ? '' : hintId, error === undefined ? '' : errorId]
    .filter(Boolean)
    .join(' ');
  return (
    <div className="mb-3 flex flex-col gap-1">
      <label htmlFor={id} className="text-sm uppercase tracking-wide text-amber">
        {label}
      </label>
      {children({
        id,
        ...(describedBy === '' ? {} : { 'aria-describedby': describedBy }),
        ...(error === undefined ? {} : { 'aria-invalid': true }),
      })}
      {hint !== undefined && (
        <p id={hintId} className="text-xs text-phosphor-dim">
          {hint}
        </p>
      )}
      {error !== undefined && (
        <p id={errorId} className="text-sm text-red-300">
          {error}
        </p>
      )}
    </div>
  );
}

export function TextInput({
  label,
  hint,
  error,
  ...props
}: Omit<FieldProps, 'children'> & ComponentProps<'input'>) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(ids) => <input {...ids} {...props} />}
    </Field>
  );
}

export function TextArea({
  label,
  hint,
  error,
  ...props
}: Omit<FieldProps, 'children'> & ComponentProps<'textarea'>) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(ids) => <textarea rows={8} {...ids} {...props} />}
    </Field>
  );
}
