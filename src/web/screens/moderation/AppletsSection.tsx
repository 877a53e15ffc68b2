// Applet review: the applets waiting for approval, each with what a reviewer needs to decide —
// who uploaded it, its manifest (code hash and size, parameters, MIME types, debug mode), and the
// code itself as text — and approve or reject with a reason the owner sees.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { fetchAppletCode, fetchApplets, reviewApplet } from '../../api/applets';
import { queryKeys } from '../../api/keys';
import { formatBytes } from '../../api/transfers';
import type { Applet } from '../../api/types';
import { Button, TextInput } from '../../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { useAfterAction } from './forms';

/** The code, shown as text (never run here); fetched only when the reviewer opens it. */
function CodeView({ applet }: { applet: Applet }) {
  const [open, setOpen] = useState(false);
  const code = useQuery({
    queryKey: [...queryKeys.applets, applet.id, 'code'],
    queryFn: async () => new TextDecoder().decode(await fetchAppletCode(applet.id)),
    enabled: open,
  });
  if (!open)
    return (
      <Button variant="plain" className="text-xs" onClick={() => setOpen(true)}>
        Show code
      </Button>
    );
  return (
    <>
      {code.isPending && <Loading what="Loading the code" />}
      <ErrorNotice error={code.error} />
      {code.data !== undefined && (
        <pre
          aria-label={`Code of ${applet.name}`}
          className="max-h-96 overflow-auto border border-line bg-black p-2 text-xs whitespace-pre-wrap"
        >
          {code.data}
        </pre>
      )}
    </>
  );
}

function PendingApplet({
  applet,
  onReviewed,
}: {
  applet: Applet;
  onReviewed: (done: string) => void;
}) {
  const [reason, setReason] = useState('');
  const afterAction = useAfterAction();
  const review = useMutation({
    mutationFn: (status: 'approved' | 'rejected') => reviewApplet(applet.id, { status, reason }),
    onSuccess: (reviewed) => {
      onReviewed(`${reviewed.status === 'approved' ? 'Approved' : 'Rejected'} ${reviewed.name}.`);
      afterAction(queryKeys.applets);
    },
  });
  const manifest = applet.code_manifest;
  return (
    <li aria-label={applet.name} className="py-3">
      <h3 className="font-bold text-amber">{applet.name}</h3>
      {applet.description !== '' && <p className="text-sm">{applet.description}</p>}
      <dl className="my-2 grid grid-cols-[max-content_1fr] gap-x-3 text-sm">
        <dt className="text-phosphor-dim">Uploaded by</dt>
        <dd>{applet.author_username ?? 'this instance'}</dd>
        <dt className="text-phosphor-dim">Category</dt>
        <dd>{applet.category_name ?? 'none'}</dd>
        <dt className="text-phosphor-dim">Code SHA-256</dt>
        <dd className="break-all">{manifest?.content_hash ?? 'no code'}</dd>
        <dt className="text-phosphor-dim">Code size</dt>
        <dd>{manifest?.size == null ? 'unknown' : formatBytes(manifest.size)}</dd>
        <dt className="text-phosphor-dim">Opens</dt>
        <dd>
          {applet.handles_mime_types.length === 0
            ? 'no files'
            : applet.handles_mime_types.join(', ')}
        </dd>
        <dt className="text-phosphor-dim">Debug mode</dt>
        <dd>{applet.is_debug_mode ? 'on' : 'off'}</dd>
        <dt className="text-phosphor-dim">Submitted</dt>
        <dd>{new Date(applet.created_at).toLocaleString()}</dd>
      </dl>
      <p className="text-sm text-phosphor-dim">Parameters</p>
      <pre
        aria-label={`Parameters of ${applet.name}`}
        className="mb-2 max-h-48 overflow-auto border border-line p-2 text-xs"
      >
        {JSON.stringify(applet.parameters, null, 2)}
      </pre>
      {manifest !== null && <CodeView applet={applet} />}
      <form
        aria-label={`Review ${applet.name}`}
        className="mt-2 max-w-md"
        onSubmit={(e) => e.preventDefault()}
      >
        <TextInput
          label="Reason"
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          hint="Shown to the applet's owner. Say why when you reject."
        />
        <ErrorNotice error={review.error} />
        <div className="flex gap-2">
          <Button disabled={review.isPending} onClick={() => review.mutate('approved')}>
            Approve
          </Button>
          <Button
            variant="danger"
            disabled={review.isPending}
            onClick={() => review.mutate('rejected')}
          >
            Reject
          </Button>
        </div>
      </form>
    </li>
  );
}

export function AppletsSection() {
  const pending = useQuery({
    queryKey: [...queryKeys.applets, 'pending'],
    queryFn: () => fetchApplets('pending'),
  });
  const [last, setLast] = useState<string | null>(null);
  return (
    <>
      {pending.isPending && <Loading what="Loading applets waiting for review" />}
      <ErrorNotice error={pending.error} />
      {last !== null && <Notice>{last}</Notice>}
      {pending.data?.items.length === 0 && <Empty>No applets are waiting for review.</Empty>}
      <ul className="divide-y divide-line">
        {pending.data?.items.map((applet) => (
          <PendingApplet key={applet.id} applet={applet} onReviewed={setLast} />
        ))}
      </ul>
    </>
  );
}
