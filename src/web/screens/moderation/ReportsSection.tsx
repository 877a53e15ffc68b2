// The report queue: open reports (or upheld, dismissed), each worked on its own card, or several
// selected and resolved at once.
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { queryKeys } from '../../api/keys';
import { resolveReports, useReports } from '../../api/moderation';
import type { BulkResolution, Report, ReportStatus } from '../../api/types';
import { Button, Field } from '../../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { LoadMore } from '../../ui/paging';
import { ReportCard } from './ReportCard';
import { useAfterAction } from './forms';

type BulkAction = 'uphold' | 'remove' | 'dismiss';

const BULK_DONE: Record<BulkAction, string> = {
  uphold: 'upheld',
  remove: 'upheld, their posts removed',
  dismiss: 'dismissed',
};

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function bulkSummary(action: BulkAction, result: BulkResolution): string {
  const done = `${plural(result.resolved.length, 'report')} ${BULK_DONE[action]}.`;
  if (result.skipped.length === 0) return done;
  return `${done} ${plural(result.skipped.length, 'report')} skipped: closed already or gone.`;
}

/** The bar over the queue that acts on the selected reports. */
function BulkActions({
  items,
  selected,
  onSelect,
  onDone,
}: {
  items: Report[];
  selected: ReadonlySet<string>;
  onSelect: (ids: ReadonlySet<string>) => void;
  onDone: (summary: string) => void;
}) {
  const bulk = useMutation({
    mutationFn: (action: BulkAction) =>
      resolveReports({
        report_ids: items.filter((r) => selected.has(r.id)).map((r) => r.id),
        action: action === 'dismiss' ? 'dismiss' : 'uphold',
        delete_message: action === 'remove',
      }),
    onSuccess: (result, action) => onDone(bulkSummary(action, result)),
  });
  const allSelected = items.length > 0 && items.every((r) => selected.has(r.id));
  const none = selected.size === 0 || bulk.isPending;
  return (
    <form
      aria-label="Selected reports"
      className="mb-3 flex flex-wrap items-center gap-2 border border-line p-2"
      onSubmit={(e) => e.preventDefault()}
    >
      <Button
        variant="plain"
        onClick={() => onSelect(new Set(allSelected ? [] : items.map((r) => r.id)))}
      >
        {allSelected ? 'Select none' : 'Select all'}
      </Button>
      <span role="status" className="text-sm">
        {plural(selected.size, 'report')} selected
      </span>
      <Button disabled={none} onClick={() => bulk.mutate('uphold')}>
        Uphold selected
      </Button>
      <Button variant="danger" disabled={none} onClick={() => bulk.mutate('remove')}>
        Remove their posts
      </Button>
      <Button variant="plain" disabled={none} onClick={() => bulk.mutate('dismiss')}>
        Dismiss selected
      </Button>
      <ErrorNotice error={bulk.error} />
    </form>
  );
}

export function ReportsSection() {
  const [status, setStatus] = useState<ReportStatus>('open');
  const [done, setDone] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const doneRef = useRef<HTMLDivElement>(null);
  const reports = useReports(status);
  const afterAction = useAfterAction();
  // A resolved report leaves the open queue, taking the focused button with it: the focus goes to
  // what was done instead of falling back to the top of the page.
  useEffect(() => {
    if (done !== null) doneRef.current?.focus();
  }, [done]);
  const finish = (summary: string) => {
    setDone(summary);
    setSelected(new Set());
    afterAction(queryKeys.allReports);
  };
  const resolved = (report: Report) =>
    finish(
      report.status === 'upheld'
        ? `Report on “${report.snapshot.subject}” upheld${report.message_exists ? '' : '; the message is deleted'}.`
        : `Report on “${report.snapshot.subject}” dismissed.`,
    );
  const items = reports.data?.pages.flatMap((p) => p.items) ?? [];
  const select = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
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
              setSelected(new Set());
            }}
          >
            <option value="open">Open</option>
            <option value="upheld">Upheld</option>
            <option value="dismissed">Dismissed</option>
          </select>
        )}
      </Field>
      <div ref={doneRef} tabIndex={-1} className="outline-none">
        {done !== null && <Notice>{done}</Notice>}
      </div>
      <ErrorNotice error={reports.error} />
      {reports.isPending && <Loading what="Loading reports" />}
      {reports.isSuccess && items.length === 0 && (
        <Empty>{status === 'open' ? 'No open reports. All quiet.' : `No ${status} reports.`}</Empty>
      )}
      {status === 'open' && items.length > 0 && (
        <BulkActions items={items} selected={selected} onSelect={setSelected} onDone={finish} />
      )}
      {items.map((report) => (
        <ReportCard
          key={report.id}
          report={report}
          selected={selected.has(report.id)}
          onSelect={(on) => select(report.id, on)}
          onResolved={resolved}
        />
      ))}
      <LoadMore list={reports} />
    </>
  );
}
