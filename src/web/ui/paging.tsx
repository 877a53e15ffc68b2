// The controls of cursor-paged lists (their pages are read by src/web/api/pages.ts): "Load more",
// and the column heads of their tables.
import { Button } from './controls';

export function LoadMore({
  list,
}: {
  list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
}) {
  if (!list.hasNextPage) return null;
  return (
    <Button
      variant="plain"
      className="mt-3"
      disabled={list.isFetchingNextPage}
      onClick={() => void list.fetchNextPage()}
    >
      {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
    </Button>
  );
}

/** A table's head row: one column heading per name, those in `right` aligned right. */
export function ColumnHeads({
  names,
  right = [],
}: {
  names: readonly string[];
  right?: readonly string[];
}) {
  return (
    <thead className="uppercase text-amber">
      <tr className="border-b border-line">
        {names.map((name) => (
          <th key={name} scope="col" className={right.includes(name) ? 'p-1 text-right' : 'p-1'}>
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}
