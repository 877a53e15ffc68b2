// The modlog: every moderation action, newest first.
import { useModlog } from '../../api/moderation';
import type { ModlogEntry } from '../../api/types';
import { Empty, ErrorNotice, Loading } from '../../ui/feedback';
import { ColumnHeads, LoadMore } from '../../ui/paging';
import { Time } from '../../ui/text';

function targetOf(entry: ModlogEntry): string {
  const name = entry.details.username;
  if (typeof name === 'string') return `${entry.target_type} ${name}`;
  return `${entry.target_type} ${entry.target_id.slice(0, 12)}`;
}

export function ModlogSection() {
  const log = useModlog();
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <ErrorNotice error={log.error} />
      {log.isPending && <Loading what="Loading the modlog" />}
      {log.isSuccess && items.length === 0 && <Empty>No moderation actions yet.</Empty>}
      {items.length > 0 && (
        <div className="relative overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <caption className="sr-only">Moderation log, newest first</caption>
            <ColumnHeads names={['Time', 'Actor', 'Action', 'Target', 'Reason']} />
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id} className="border-b border-line align-top">
                  <td className="whitespace-nowrap p-1">
                    <Time iso={entry.created_at} />
                  </td>
                  <td className="p-1">{entry.actor.name}</td>
                  <td className="p-1">{entry.action.replace(/_/g, ' ')}</td>
                  <td className="break-all p-1">{targetOf(entry)}</td>
                  <td className="p-1">{entry.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={log} />
    </>
  );
}
