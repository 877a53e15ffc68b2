// A composer's preview: the body as it will show once posted, by the same renderer posts use.
import { useId, useState } from 'react';
import { Button } from './controls';
import { Markdown } from './text';

export function MarkdownPreview({ source }: { source: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div className="mb-3">
      <Button
        variant="plain"
        className="text-xs"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        {open ? 'Hide preview' : 'Preview'}
      </Button>
      {open && (
        <section id={id} aria-label="Preview" className="mt-2 border border-dashed border-line p-3">
          {source.trim() === '' ? (
            <p className="text-sm italic text-phosphor-dim">Nothing to preview yet.</p>
          ) : (
            <Markdown source={source} />
          )}
        </section>
      )}
    </div>
  );
}
