// Search snippets as a reader sees the text: the Markdown rendered, its marks and link targets
// gone, cut around the first match, with every word that starts with a searched word marked.
import { renderMarkdown } from '../../../shared/markdown.js';

export interface SnippetPiece {
  text: string;
  match: boolean;
}

/** Words around the first match that a snippet keeps, before it and in all. */
const WORDS_BEFORE = 10;
const SNIPPET_WORDS = 32;

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/**
 * The text a message's body shows, on one line. Rendering escapes every `<` of the text, so each
 * tag left is one the renderer made; block ends become spaces so words do not run together.
 */
export function plainText(markdown: string): string {
  return renderMarkdown(markdown)
    .replace(/<br>|<\/(?:p|li|h3|h4|h5|pre|blockquote)>/g, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!)
    .replace(/\s+/g, ' ')
    .trim();
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whole words that begin with one of the terms (the search matches by prefix). */
function matcher(terms: readonly string[]): RegExp | undefined {
  if (terms.length === 0) return undefined;
  const alternatives = [...terms]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives})[\\p{L}\\p{N}_]*`, 'giu');
}

/** Text in pieces, the words that start with a term marked. */
export function markTerms(text: string, terms: readonly string[]): SnippetPiece[] {
  const pattern = matcher(terms);
  const pieces: SnippetPiece[] = [];
  let last = 0;
  for (const found of pattern === undefined ? [] : text.matchAll(pattern)) {
    if (found.index > last) pieces.push({ text: text.slice(last, found.index), match: false });
    pieces.push({ text: found[0], match: true });
    last = found.index + found[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), match: false });
  return pieces;
}

/**
 * A snippet of the body's shown text: about SNIPPET_WORDS words from a little before the first
 * match (the opening words when no word matches as written), `…` where text was cut.
 */
export function snippetOf(markdown: string, terms: readonly string[]): SnippetPiece[] {
  const text = plainText(markdown);
  const words = [...text.matchAll(/\S+/g)];
  const first = matcher(terms)?.exec(text)?.index ?? 0;
  const firstWord = Math.max(
    0,
    words.findIndex((w) => w.index + w[0].length > first),
  );
  const from = Math.max(0, firstWord - WORDS_BEFORE);
  const to = Math.min(words.length, from + SNIPPET_WORDS);
  if (words.length === 0) return [];
  const start = words[from]!.index;
  const end = words[to - 1]!.index + words[to - 1]![0].length;
  const pieces = markTerms(text.slice(start, end), terms);
  if (from > 0) pieces.unshift({ text: '… ', match: false });
  if (to < words.length) pieces.push({ text: ' …', match: false });
  return pieces;
}
