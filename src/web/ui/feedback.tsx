// What a screen shows while it waits, when it failed and when there is nothing to show.
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { formatBytes, type Progress } from '../api/transfers';

/** A problem found before anything is sent, shown like the server's own refusals. */
export const refusal = (message: string) => new ApiError(0, 'INVALID_INPUT', message);

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.name !== 'AbortError')
    return 'Something went wrong. Try again.';
  return 'Something went wrong. Try again.';
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p role="alert" className="my-2 border border-red-500 bg-red-950/40 px-3 py-2 text-red-200">
      {errorText(error)}
    </p>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="my-2 border border-line bg-panel px-3 py-2 text-phosphor">
      {children}
    </p>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p role="status" aria-live="polite" className="my-4 animate-pulse text-phosphor-dim">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="my-4 text-phosphor-dim">{children}</p>;
}

export function ProgressBar({ label, progress }: { label: string; progress: Progress }) {
  const percent = progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : 0;
  return (
    <div className="my-1 flex items-center gap-2 text-sm">
      <progress
        aria-label={label}
        max={progress.total || 1}
        value={progress.loaded}
        className="h-3 w-48 accent-phosphor"
      />
      <span>
        {percent}% ({formatBytes(progress.loaded)} of {formatBytes(progress.total)})
      </span>
    </div>
  );
}
