// The safe Markdown subset users write in: everything is HTML-escaped first, then a few marks
// become a fixed set of tags. No raw HTML survives, links are http(s) or same-site only.
// Shared by the server (message `body_html`) and the web client.

export const ALLOWED_TAGS = [
  'p',
  'br',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'h3',
  'h4',
  'h5',
] as const;

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A link target we will emit: http(s) URLs and site-relative paths, nothing else. */
function safeHref(escapedUrl: string): string | undefined {
  const url = escapedUrl.replace(/&amp;/g, '&');
  if (/^https?:\/\/[^\s]+$/i.test(url) || /^\/(?!\/)[^\s]*$/.test(url)) return escapeHtml(url);
  return undefined;
}

const link = (href: string, text: string) =>
  `<a href="${href}" rel="nofollow noopener noreferrer" target="_blank">${text}</a>`;

const MAX_LABEL = 500;
const MAX_URL = 2000;

/**
 * Where the next match of `pattern` (global) starts at or after a position, remembered so that
 * positions asked in increasing order scan the text once in all.
 */
function nextMatchFinder(text: string, pattern: RegExp): (from: number) => number {
  let found = -1;
  return (from) => {
    if (found < from) {
      pattern.lastIndex = from;
      found = pattern.exec(text)?.index ?? text.length;
    }
    return found;
  };
}

/**
 * Replaces every `[label](url)` (label 1–500 characters without `]` or a line break, url 1–2000
 * without `)` or white space), leftmost first, as the regular expression
 * `/\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)/g` would, but in linear time: that expression
 * re-scanned up to 2,500 characters from every `[`, so a run of `[a](` cost thousands of steps per
 * character. Here each `[` costs a few lookups of the next `]`, `)` and white space after it.
 */
function replaceLinks(
  text: string,
  replace: (whole: string, label: string, url: string) => string,
): string {
  const nextBracket = nextMatchFinder(text, /[\]\n]/g);
  const nextParen = nextMatchFinder(text, /\)/g);
  const nextSpace = nextMatchFinder(text, /\s/g);
  let out = '';
  let copied = 0;
  for (let open = text.indexOf('['); open !== -1; open = text.indexOf('[', open + 1)) {
    const close = nextBracket(open + 1);
    const labelLength = close - open - 1;
    if (labelLength < 1 || labelLength > MAX_LABEL || text[close] !== ']') continue;
    if (text[close + 1] !== '(') continue;
    const urlStart = close + 2;
    const end = nextParen(urlStart);
    const urlLength = end - urlStart;
    if (urlLength < 1 || urlLength > MAX_URL || end >= text.length) continue;
    if (nextSpace(urlStart) < end) continue;
    out +=
      text.slice(copied, open) +
      replace(text.slice(open, end + 1), text.slice(open + 1, close), text.slice(urlStart, end));
    copied = end + 1;
    open = end;
  }
  return out + text.slice(copied);
}

/** Inline marks on already-escaped text. Code spans are set aside first so nothing inside changes. */
function inline(escaped: string): string {
  const codes: string[] = [];
  let text = escaped.replace(/`([^`\n]+)`/g, (_m, code: string) => {
    codes.push(`<code>${code}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  const links: string[] = [];
  const keep = (html: string) => {
    links.push(html);
    return `\u0001${links.length - 1}\u0001`;
  };
  text = replaceLinks(text, (whole, label, url) => {
    const href = safeHref(url);
    return href === undefined ? whole : keep(link(href, label));
  });
  text = text.replace(/\bhttps?:\/\/[^\s<>\u0000\u0001]+[^\s<>.,;:!?)\u0000\u0001]/gi, (url) => {
    const href = safeHref(url);
    return href === undefined ? url : keep(link(href, url));
  });
  // Function replacers, not `$1` templates: V8 expands templates on a slower path, and a 64 KiB
  // run of `*` (thousands of matches) took five times as long with them.
  text = text
    .replace(/\*\*(?=\S)([^*\n]*?\S)\*\*/g, (_m, inner: string) => `<strong>${inner}</strong>`)
    .replace(
      /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g,
      (_m, before: string, inner: string) => `${before}<em>${inner}</em>`,
    )
    .replace(
      /(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g,
      (_m, before: string, inner: string) => `${before}<em>${inner}</em>`,
    )
    .replace(/~~(?=\S)([^~\n]*?\S)~~/g, (_m, inner: string) => `<del>${inner}</del>`);
  return text
    .replace(/\u0001(\d+)\u0001/g, (_m, i: string) => links[Number(i)]!)
    .replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codes[Number(i)]!);
}

type Block =
  | { kind: 'p'; lines: string[] }
  | { kind: 'pre'; lines: string[] }
  | { kind: 'quote'; lines: string[] }
  | { kind: 'ul' | 'ol'; items: string[] }
  | { kind: 'h'; level: number; text: string };

/** Renders the Markdown subset to HTML that holds only ALLOWED_TAGS. */
export function renderMarkdown(source: string): string {
  // Control characters (but newline and tab) are dropped: they have no place in a message.
  const lines = source
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .split('\n');
  const blocks: Block[] = [];
  let current: Block | undefined;
  const close = () => {
    if (current !== undefined) blocks.push(current);
    current = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^```/.test(line)) {
      close();
      const code: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]!); i++) code.push(lines[i]!);
      blocks.push({ kind: 'pre', lines: code });
      continue;
    }
    if (line.trim() === '') {
      close();
      continue;
    }
    const heading = /^(#{1,3})\s+(.+)$/.exec(line);
    const quote = /^>\s?(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.+)$/.exec(line);
    const numbered = /^\s*\d{1,9}[.)]\s+(.+)$/.exec(line);
    if (heading) {
      close();
      blocks.push({ kind: 'h', level: heading[1]!.length, text: heading[2]! });
    } else if (quote) {
      if (current?.kind !== 'quote') close();
      current ??= { kind: 'quote', lines: [] };
      (current as { lines: string[] }).lines.push(quote[1]!);
    } else if (bullet || numbered) {
      const kind = bullet ? 'ul' : 'ol';
      if (current?.kind !== kind) close();
      current ??= { kind, items: [] };
      (current as { items: string[] }).items.push((bullet ?? numbered)![1]!);
    } else {
      if (current?.kind !== 'p') close();
      current ??= { kind: 'p', lines: [] };
      (current as { lines: string[] }).lines.push(line);
    }
  }
  close();

  return blocks
    .map((block) => {
      switch (block.kind) {
        case 'pre':
          return `<pre><code>${escapeHtml(block.lines.join('\n'))}</code></pre>`;
        case 'h':
          return `<h${block.level + 2}>${inline(escapeHtml(block.text))}</h${block.level + 2}>`;
        case 'quote':
          return `<blockquote>${block.lines.map((l) => inline(escapeHtml(l))).join('<br>')}</blockquote>`;
        case 'ul':
        case 'ol':
          return `<${block.kind}>${block.items.map((item) => `<li>${inline(escapeHtml(item))}</li>`).join('')}</${block.kind}>`;
        case 'p':
          return `<p>${block.lines.map((l) => inline(escapeHtml(l))).join('<br>')}</p>`;
      }
    })
    .join('\n');
}
