// User text on screen: Markdown through the shared safe renderer (the same code the server uses,
// which escapes everything and emits a fixed set of tags), search highlights and times.
import { useMemo } from 'react';
import { renderMarkdown } from '../../shared/markdown';
import type { Snippet } from '../api/types';
import { useSession } from '../api/session';

export function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  // renderMarkdown's output holds only its allow-listed tags: user HTML is escaped, never parsed.
  return <div className="md" dangerouslySetInnerHTML={{ __html: html }} />;
}

export function Highlighted({ pieces }: { pieces: Snippet }) {
  return (
    <>
      {pieces.map((piece, i) =>
        piece.match ? (
          <mark key={i} className="bg-amber px-0.5 text-black">
            {piece.text}
          </mark>
        ) : (
          <span key={i}>{piece.text}</span>
        ),
      )}
    </>
  );
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let format = formatters.get(key);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat(undefined, {
        dateStyle: 'medium',
        timeStyle: 'short',
        timeZone,
      });
    } catch {
      format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    }
    formatters.set(key, format);
  }
  return format;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['minute', 60_000],
  ['hour', 3_600_000],
  ['day', 86_400_000],
];

/** "just now", "3 min ago", "yesterday" for times within a week; null for older ones. */
export function relativeTime(iso: string, now = Date.now()): string | null {
  const ago = now - Date.parse(iso);
  if (!(ago >= 0) || ago >= 7 * 86_400_000) return null;
  if (ago < 60_000) return 'just now';
  const [unit, ms] = UNITS.findLast(([, size]) => ago >= size)!;
  return relative.format(-Math.floor(ago / ms), unit);
}

/**
 * A time as people read it on a forum: relative within the last week ("3 minutes ago"), else the
 * date; the absolute time in the reader's own time zone (their profile's) on hover, and
 * machine-readable in dateTime.
 */
export function Time({ iso }: { iso: string }) {
  const session = useSession();
  const absolute = formatter(session?.user.timezone).format(new Date(iso));
  return (
    <time dateTime={iso} title={absolute}>
      {relativeTime(iso) ?? absolute}
    </time>
  );
}

/** A 64-hex key fingerprint in groups of four, so people can read it out and compare it. */
export function Fingerprint({ value }: { value: string }) {
  const groups = value.match(/.{1,4}/g) ?? [value];
  return (
    <code className="break-words text-amber" title={value}>
      {groups.join(' ')}
    </code>
  );
}
