// The report queue: open reports (or upheld, dismissed), each upheld or dismissed with a note.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { queryKeys } from '../../api/keys';
import { resolveReport, useReports } from '../../api/moderation';
import type { Report, ReportStatus } from '../../api/types';
import { Author } from '../../ui/Author';
import { Button, Field, TextInput } from '../../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { LoadMore } from '../../ui/paging';
import { Markdown, Time } from '../../ui/text';
import { useAfterAction } from './forms';

// ── Reports ────────────────────────────────────────────────────────────────────────────────────

function ReportCard({ report, onResolved }: { report: Report; onResolved: (r: Report) => void }) {
  const [deleteMessage, setDeleteMessage] = useState(false);
  const [note, setNote] = useState('');
  const resolve = useMutation({
    mutationFn: (action: 'uphold' | 'dismiss') =>
      resolveReport(report.id, {
        action,
        delete_message: action === 'uphold' && deleteMessage,
        note: note.trim() === '' ? null : note.trim(),
      }),
    onSuccess: onResolved,
  });
  const { snapshot } = report;
  return (
    <article aria-label={`Report on “${snapshot.subject}”`} className="mb-3 border border-line p-3">
      <h3 className="font-bold text-amber">{snapshot.subject}</h3>
      <p className="text-sm text-phosphor-dim">
        by <Author nickname={snapshot.author_nickname} fingerprint={snapshot.author_fingerprint} />{' '}
        · reported <Time iso={report.created_at} />
      </p>
      <p className="my-2">
        <span className="text-amber">Reason:</span> {report.reason}
      </p>
      <div className="my-2 max-h-64 overflow-y-auto border-l-4 border-line pl-3">
        <Markdown source={snapshot.body} />
      </div>
      <p className="text-sm">
        {report.message_exists ? (
          <Link to={`/messages/${report.message_id}`}>Open the message</Link>
        ) : (
          <span className="text-phosphor-dim">The message has been deleted.</span>
        )}
      </p>
      {report.status === 'open' ? (
        <form aria-label="Resolve report" className="mt-3" onSubmit={(e) => e.preventDefault()}>
          <label className="mb-2 flex items-center gap-2">
            <input
              type="checkbox"
              checked={deleteMessage}
              disabled={!report.message_exists}
              onChange={(e) => setDeleteMessage(e.target.checked)}
            />
            Delete the message (when upholding)
          </label>
          <TextInput
            label="Note"
            maxLength={500}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            hint="Optional; kept with the decision and in the modlog."
          />
          <ErrorNotice error={resolve.error} />
          <div className="flex flex-wrap gap-2">
            <Button disabled={resolve.isPending} onClick={() => resolve.mutate('uphold')}>
              Uphold
            </Button>
            <Button
              variant="plain"
              disabled={resolve.isPending}
              onClick={() => resolve.mutate('dismiss')}
            >
              Dismiss
            </Button>
          </div>
        </form>
      ) : (
        <p className="mt-2 text-sm">
          <span className="uppercase text-amber">{report.status}</span>
          {report.resolved_at !== null && (
            <>
              {' '}
              <Time iso={report.resolved_at} />
            </>
          )}
          {report.resolution_note !== null && <> — {report.resolution_note}</>}
        </p>
      )}
    </article>
  );
}

export function ReportsSection() {
  const [status, setStatus] = useState<ReportStatus>('open');
  const [done, setDone] = useState<string | null>(null);
  const reports = useReports(status);
  const afterAction = useAfterAction();
  const resolved = (report: Report) => {
    setDone(
      report.status === 'upheld'
        ? `Report on “${report.snapshot.subject}” upheld${report.message_exists ? '' : '; the message is deleted'}.`
        : `Report on “${report.snapshot.subject}” dismissed.`,
    );
    afterAction(queryKeys.allReports);
  };
  const items = reports.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <Field label="Status">
        {(ids) => (
          <select
            {...ids}
            className="max-w-xs"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as ReportStatus);
              setDone(null);
            }}
          >
            <option value="open">Open</option>
            <option value="upheld">Upheld</option>
            <option value="dismissed">Dismissed</option>
          </select>
        )}
      </Field>
      {done !== null && <Notice>{done}</Notice>}
      <ErrorNotice error={reports.error} />
      {reports.isPending && <Loading what="Loading reports" />}
      {reports.isSuccess && items.length === 0 && (
        <Empty>{status === 'open' ? 'No open reports. All quiet.' : `No ${status} reports.`}</Empty>
      )}
      {items.map((report) => (
        <ReportCard key={report.id} report={report} onResolved={resolved} />
      ))}
      <LoadMore list={reports} />
    </>
  );
}
