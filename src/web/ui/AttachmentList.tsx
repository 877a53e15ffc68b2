// A message's attachments: images and video inline, everything else a download with progress. A
// remote message's attachment is shown once this instance has fetched it from its peers; until then
// its state (chunks so far, an unreachable peer, a failed check) is shown and asked for again.
// Applets that handle an attachment's media type are offered on it ("Open … with …").
import { useState } from 'react';
import { Link } from 'react-router';
import { useApplets } from '../api/applets';
import { useContentState } from '../api/content';
import { useMediaUrl } from '../api/media';
import { useSession } from '../api/session';
import { downloadContent, formatBytes, type Progress } from '../api/transfers';
import type { Attachment, ContentState } from '../api/types';
import { opens } from '../applets/mime';
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

const STATE_TEXT: Record<Exclude<ContentState['state'], 'complete'>, string> = {
  pending: 'fetching from the instance it came from',
  absent: 'waiting for the instance it came from',
  unreachable: 'the instance that has it cannot be reached; trying again',
  failed: 'refused: it failed verification',
  refused: 'refused: larger than this instance takes from that peer',
};

function FetchState({ state }: { state: ContentState }) {
  if (state.state === 'complete') return null;
  const progress =
    state.chunks_total > 0 ? ` (${state.chunks_done}/${state.chunks_total} chunks)` : '';
  return (
    <p
      role="status"
      className={`text-xs ${state.state === 'failed' || state.state === 'refused' ? 'text-red-300' : 'text-amber'}`}
      title={state.last_error ?? undefined}
    >
      {STATE_TEXT[state.state]}
      {progress}
    </p>
  );
}

/** "Open with …": the approved applets that handle the attachment's media type (members only). */
function OpenWith({ attachment }: { attachment: Attachment }) {
  const signedIn = useSession() !== null;
  const applets = useApplets(signedIn);
  const handlers = (applets.data?.items ?? []).filter((a) => opens(a, attachment.mime_type));
  if (handlers.length === 0) return null;
  const query = new URLSearchParams({
    attachment: attachment.content_hash,
    filename: attachment.filename,
    type: attachment.mime_type,
    size: String(attachment.size),
  });
  return (
    <p className="flex flex-wrap gap-2 text-xs">
      {handlers.map((applet) => (
        <Link key={applet.id} to={`/applets/${applet.id}?${query.toString()}`}>
          Open {attachment.filename} with {applet.name}
        </Link>
      ))}
    </p>
  );
}

function AttachmentItem({ attachment, remote }: { attachment: Attachment; remote: boolean }) {
  const state = useContentState(attachment.content_hash, remote);
  const ready = !remote || state?.state === 'complete';
  return (
    <li>
      <p className="text-sm text-phosphor-dim">
        {attachment.filename} · {attachment.mime_type} · {formatBytes(attachment.size)}
      </p>
      {state !== undefined && <FetchState state={state} />}
      {ready && <Inline attachment={attachment} />}
      {ready && <Download attachment={attachment} />}
      {ready && <OpenWith attachment={attachment} />}
    </li>
  );
}

/** `remote`: the message came from a peer, so its attachments may still be on their way. */
export function AttachmentList({
  attachments,
  remote = false,
}: {
  attachments: Attachment[];
  remote?: boolean;
}) {
  if (attachments.length === 0) return null;
  return (
    <ul aria-label="Attachments" className="mt-3 flex flex-col gap-3 border-t border-line pt-2">
      {attachments.map((a) => (
        <AttachmentItem key={a.content_hash} attachment={a} remote={remote} />
      ))}
    </ul>
  );
}
