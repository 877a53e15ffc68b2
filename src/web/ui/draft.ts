// Drafts survive reloads and an ended session: what a person is writing is kept in localStorage
// under a key of the form's own, and cleared once it is sent. Private-message drafts are cleared
// on logout too, so the next person at the browser does not find them.
import { useCallback, useEffect, useState } from 'react';

const PREFIX = 'axon.draft.';
/** Key prefix (after PREFIX) of private-message drafts. */
export const PRIVATE_DRAFT = 'pm:';

/** Forgets every private-message draft kept in this browser (on logout). */
export function forgetPrivateDrafts(): void {
  const keys: string[] = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key?.startsWith(PREFIX + PRIVATE_DRAFT)) keys.push(key);
  }
  for (const key of keys) localStorage.removeItem(key);
}

export function useDraft<T extends Record<string, unknown>>(key: string, empty: T) {
  const storageKey = PREFIX + key;
  const [draft, setDraft] = useState<T>(() => {
    try {
      const saved = localStorage.getItem(storageKey);
      return saved === null ? empty : { ...empty, ...(JSON.parse(saved) as Partial<T>) };
    } catch {
      return empty;
    }
  });
  useEffect(() => {
    localStorage.setItem(storageKey, JSON.stringify(draft));
  }, [storageKey, draft]);
  const update = useCallback(
    <K extends keyof T>(field: K, value: T[K]) => setDraft((d) => ({ ...d, [field]: value })),
    [],
  );
  const clear = useCallback(() => {
    localStorage.removeItem(storageKey);
    setDraft(empty);
    // `empty` is a fresh literal on each render; the key alone decides the draft.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [storageKey]);
  return { draft, update, clear };
}
