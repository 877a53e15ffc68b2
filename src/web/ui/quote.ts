// Quoting a post into a reply: the quoted text as a Markdown blockquote that names its author.

/** `> **nickname** wrote:` and the text, each line under `>`, followed by an empty line. */
export function quoteMarkdown(nickname: string, text: string): string {
  const lines = text.trim().replace(/\r\n?/g, '\n').split('\n');
  // Asterisks in a name would end the bold mark early: drop them from the attribution.
  const name = nickname.replace(/\*/g, '');
  return [`> **${name}** wrote:`, ...lines.map((line) => (line === '' ? '>' : `> ${line}`))]
    .join('\n')
    .concat('\n\n');
}

/** The text the reader selected inside `container`, or '' when the selection is elsewhere. */
export function selectedTextIn(container: Element | null): string {
  const selection = window.getSelection();
  if (container === null || selection === null || selection.isCollapsed) return '';
  const range = selection.getRangeAt(0);
  if (!container.contains(range.commonAncestorContainer)) return '';
  return selection.toString().trim();
}

/** Adds a quote to the end of a draft's body, on a paragraph of its own. */
export const withQuote = (body: string, quote: string): string =>
  body.trim() === '' ? quote : `${body.replace(/\s*$/, '')}\n\n${quote}`;
