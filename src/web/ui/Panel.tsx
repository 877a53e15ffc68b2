// A boxed section with an amber title bar: the building block of every screen.
import type { ReactNode } from 'react';

export function Panel({
  title,
  actions,
  children,
  headingLevel = 2,
}: {
  title: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  headingLevel?: 1 | 2 | 3;
}) {
  const Heading = `h${headingLevel}` as const;
  return (
    <section className="mb-6 border border-line">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line bg-panel px-3 py-2">
        <Heading className="min-w-0 text-lg font-bold uppercase tracking-wider text-amber wrap-anywhere">
          {title}
        </Heading>
        {actions !== undefined && <div className="flex flex-wrap gap-2">{actions}</div>}
      </div>
      <div className="p-3">{children}</div>
    </section>
  );
}
