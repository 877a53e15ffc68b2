// Search every board the reader may read; matched words are highlighted.
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSearch } from '../api/search';
import { Author } from '../ui/Author';
import { Button, TextInput } from '../ui/controls';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Highlighted, Time } from '../ui/text';

export function SearchScreen() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const cursor = params.get('cursor') ?? undefined;
  const [text, setText] = useState(q);
  const hits = useSearch(q, cursor);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams(text.trim() === '' ? {} : { q: text.trim() });
  };
  return (
    <Panel title="Search" headingLevel={1}>
      <form role="search" onSubmit={submit} className="flex flex-wrap items-end gap-2">
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
          onClick={() => setParams({ q, cursor: hits.data.next_cursor! })}
        >
          More results →
        </button>
      )}
    </Panel>
  );
}
