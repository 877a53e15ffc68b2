// Inputs that made the Markdown renderer backtrack, and the measure the test and the bench share:
// the fastest of several renders of one input, against ordinary prose of the same size.
import { renderMarkdown } from '../shared/markdown.js';

/** The largest message body (DESIGN §4), so each input is the worst one request can post. */
export const BODY_BYTES = 64 * 1024;

const fill = (unit: string, size: number) =>
  unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

export const ordinaryMarkdown = (size = BODY_BYTES) =>
  fill(
    'Some **bold**, *em*, _em_, ~~gone~~, `code` and [a link](https://example.org/a) in a line. ',
    size,
  );

/** Each is one line (the renderer's inline rules work per line), so nothing splits the work. */
export const adversarialMarkdown = (size = BODY_BYTES): Record<string, string> => ({
  'unclosed links `[a](`': fill('[a](', size),
  'open brackets `[`': fill('[', size),
  'nested brackets `[[]`': fill('[[]', size),
  'labels without a target `[a]`': fill('[a]', size),
  'links cut by a space `[a](http://x `': fill('[a](http://x ', size),
  'stars `*`': fill('*', size),
  'underscores `_`': fill('_', size),
  'tildes `~`': fill('~', size),
  'backticks `` ` ``': fill('`', size),
  'bare URL starts `http://`': fill('http://', size),
  'a URL ending in dots': fill(`https://a.b/${'.'.repeat(500)} `, size),
});

/** Milliseconds of the fastest of `runs` renders: the least noisy figure on a shared machine. */
export function fastestRenderMs(input: string, runs: number): number {
  let fastest = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    renderMarkdown(input);
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}
