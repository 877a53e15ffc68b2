// Choosing files to attach: each is checked against the instance's upload limit before a byte is
// sent, then uploaded with a progress bar. The chosen uploads are part of the caller's draft.
import { useId, useRef, useState } from 'react';
import { useUploadLimit } from '../api/content';
import { formatBytes, uploadFile, type Progress } from '../api/transfers';
import type { Upload } from '../api/types';
import { Button } from './controls';
import { ErrorNotice, ProgressBar } from './feedback';

interface Uploading {
  name: string;
  progress: Progress;
}

export function AttachmentPicker({
  attached,
  onChange,
}: {
  attached: Upload[];
  onChange: (uploads: Upload[]) => void;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const limit = useUploadLimit();
  const [uploading, setUploading] = useState<Uploading[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [sizeError, setSizeError] = useState<string | null>(null);

  const choose = async (files: File[]) => {
    setError(null);
    const tooLarge = limit === undefined ? [] : files.filter((f) => f.size > limit);
    setSizeError(
      tooLarge.length === 0 || limit === undefined
        ? null
        : tooLarge
            .map(
              (f) =>
                `${f.name} is ${formatBytes(f.size)}; this instance accepts files up to ${formatBytes(limit)}.`,
            )
            .join(' '),
    );
    let list = attached;
    for (const file of files.filter((f) => !tooLarge.includes(f))) {
      setUploading((u) => [...u, { name: file.name, progress: { loaded: 0, total: file.size } }]);
      try {
        const upload = await uploadFile(file, (progress) =>
          setUploading((u) => u.map((x) => (x.name === file.name ? { ...x, progress } : x))),
        );
        if (!list.some((a) => a.content_hash === upload.content_hash)) list = [...list, upload];
        onChange(list);
      } catch (cause) {
        setError(cause);
      } finally {
        setUploading((u) => u.filter((x) => x.name !== file.name));
      }
    }
    if (input.current !== null) input.current.value = '';
  };

  return (
    <fieldset className="mb-3 border border-line p-2">
      <legend className="px-1 text-sm uppercase tracking-wide text-amber">Attachments</legend>
      <label htmlFor={id} className="text-sm">
        Attach files{limit === undefined ? '' : ` (up to ${formatBytes(limit)} each)`}
      </label>
      <input
        id={id}
        ref={input}
        type="file"
        multiple
        className="mt-1 block w-full"
        onChange={(e) => void choose(Array.from(e.target.files ?? []))}
      />
      {sizeError !== null && (
        <p role="alert" className="my-2 text-red-300">
          {sizeError}
        </p>
      )}
      <ErrorNotice error={error} />
      {uploading.map((u) => (
        <ProgressBar key={u.name} label={`Uploading ${u.name}`} progress={u.progress} />
      ))}
      {attached.length > 0 && (
        <ul aria-label="Attached files" className="mt-2">
          {attached.map((a) => (
            <li key={a.content_hash} className="flex items-center gap-2 text-sm">
              <span>
                {a.filename} ({formatBytes(a.size)})
              </span>
              <Button
                variant="plain"
                className="text-xs"
                aria-label={`Remove ${a.filename}`}
                onClick={() => onChange(attached.filter((x) => x.content_hash !== a.content_hash))}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
