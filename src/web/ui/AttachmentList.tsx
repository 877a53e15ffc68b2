// A message's attachments: images and video inline, everything else a download with progress.
import { useState } from 'react';
import { useMediaUrl } from '../api/media';
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

/** An image or a video shown in place, through a media token (elements cannot send headers). */
function Inline({ attachment }: { attachment: Attachment }) {
  const image = INLINE_IMAGE.test(attachment.mime_type);
  const video = INLINE_VIDEO.test(attachment.mime_type);
  const src = useMediaUrl(attachment.content_hash);
  if ((!image && !video) || src === undefined) return null;
  return image ? (
    <img
      src={src}
      alt={attachment.filename}
      loading="lazy"
      className="my-1 max-h-96 max-w-full border border-line"
    />
  ) : (
    <video
      src={src}
      controls
      preload="metadata"
      className="my-1 max-h-96 max-w-full"
      aria-label={attachment.filename}
    />
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
          <Inline attachment={a} />
          <Download attachment={a} />
        </li>
      ))}
    </ul>
  );
}
