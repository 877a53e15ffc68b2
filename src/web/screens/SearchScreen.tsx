// Search every board the reader may read, or narrow by board, author and days; snippets show the
// text as posted (Markdown rendered) with the matched words marked, and each hit opens the page
// of its thread that holds it.
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useBoards } from '../api/boards';
import { useSearch, type SearchFilters } from '../api/search';
import { Author } from '../ui/Author';
import { Button, Field, TextInput } from '../ui/controls';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Highlighted, Time } from '../ui/text';

const FILTERS = ['board', 'author', 'from', 'to'] as const;

/** The filters in the address, those left blank dropped. */
function filtersOf(params: URLSearchParams): SearchFilters {
  return Object.fromEntries(
    FILTERS.flatMap((name) => {
      const value = params.get(name)?.trim() ?? '';
      return value === '' ? [] : [[name, value]];
    }),
  );
}

export function SearchScreen() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const cursor = params.get('cursor') ?? undefined;
  const filters = filtersOf(params);
  const [text, setText] = useState(q);
  const [form, setForm] = useState<SearchFilters>(filters);
  const boards = useBoards();
  const hits = useSearch(q, filters, cursor);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() === '') return setParams({});
    setParams({
      q: text.trim(),
      ...filtersOf(new URLSearchParams(form as Record<string, string>)),
    });
  };
  const field = (name: keyof SearchFilters) => ({
    value: form[name] ?? '',
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
  });
  return (
    <Panel title="Search" headingLevel={1}>
      <form role="search" onSubmit={submit} className="flex flex-col gap-1">
        <div className="flex flex-wrap items-end gap-2">
          <div className="grow">
            <TextInput
              label="Search messages"
              type="search"
              maxLength={200}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
          <Button type="submit" className="mb-3">
            Search
          </Button>
        </div>
        <fieldset className="flex flex-wrap items-end gap-2">
          <legend className="mb-1 text-sm text-phosphor-dim">Narrow the search</legend>
          <Field label="Board">
            {(ids) => (
              <select {...ids} {...field('board')}>
                <option value="">Every board</option>
                {boards.data?.items.map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <TextInput label="Author (nickname or key)" maxLength={200} {...field('author')} />
          <TextInput label="From (day)" type="date" {...field('from')} />
          <TextInput label="To (day)" type="date" {...field('to')} />
        </fieldset>
      </form>
      {q !== '' && hits.isPending && <Loading what="Searching" />}
      <ErrorNotice error={hits.error} />
      {hits.data?.items.length === 0 && <Empty>Nothing matches “{q}”.</Empty>}
      <ol aria-label="Results" className="divide-y divide-line">
        {hits.data?.items.map((hit) => (
          <li key={hit.message.id} className="py-2">
            <Link to={`/messages/${hit.message.id}`} className="font-bold">
              <Highlighted pieces={hit.subject_highlighted} />
            </Link>
            <p className="text-sm">
              <Highlighted pieces={hit.snippet} />
            </p>
            <p className="text-xs text-phosphor-dim">
              <Author
                nickname={hit.message.author.nickname}
                fingerprint={hit.message.author.fingerprint}
                instance={hit.message.author.instance}
              />{' '}
              · <Time iso={hit.message.created_at} />
            </p>
          </li>
        ))}
      </ol>
      {hits.data?.next_cursor && (
        <button
          type="button"
          className="mt-3 cursor-pointer underline"
          onClick={() =>
            setParams({ q, ...(filters as Record<string, string>), cursor: hits.data.next_cursor! })
          }
        >
          More results →
        </button>
      )}
    </Panel>
  );
}
