// A message's attachments: images and video inline, everything else a download with progress.
import { useState } from 'react';
import { contentUrl } from '../api/client';
import { downloadContent, formatBytes, type Progress } from '../api/transfers';
import type { Attachment } from '../api/types';
import { Button } from './controls';
import { ErrorNotice, ProgressBar } from './feedback';

const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp|avif)$/;
const INLINE_VIDEO = /^video\/(mp4|webm|ogg)$/;

function Download({ attachment }: { attachment: Attachment }) {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const start = async () => {
    setError(null);
    setProgress({ loaded: 0, total: attachment.size });
    try {
      const blob = await downloadContent(attachment.content_hash, setProgress);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.filename;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (cause) {
      setError(cause);
    } finally {
      setProgress(null);
    }
  };
  return (
    <div>
      <Button
        variant="plain"
        className="text-xs"
        disabled={progress !== null}
        onClick={() => void start()}
      >
        Download {attachment.filename}
      </Button>
      {progress !== null && (
        <ProgressBar label={`Downloading ${attachment.filename}`} progress={progress} />
      )}
      <ErrorNotice error={error} />
    </div>
  );
}

export function AttachmentList({ attachments }: { attachments: Attachment[] }) {
  if (attachments.length === 0) return null;
  return (
    <ul aria-label="Attachments" className="mt-3 flex flex-col gap-3 border-t border-line pt-2">
      {attachments.map((a) => (
        <li key={a.content_hash}>
          <p className="text-sm text-phosphor-dim">
            {a.filename} · {a.mime_type} · {formatBytes(a.size)}
          </p>
          {INLINE_IMAGE.test(a.mime_type) && (
            <img
              src={contentUrl(a.content_hash)}
              alt={a.filename}
              loading="lazy"
              className="my-1 max-h-96 max-w-full border border-line"
            />
          )}
          {INLINE_VIDEO.test(a.mime_type) && (
            <video
              src={contentUrl(a.content_hash)}
              controls
              preload="metadata"
              className="my-1 max-h-96 max-w-full"
              aria-label={a.filename}
            />
          )}
          <Download attachment={a} />
        </li>
      ))}
    </ul>
  );
}
