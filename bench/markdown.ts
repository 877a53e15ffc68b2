// The Markdown benchmark: each adversarial 64 KiB line against ordinary Markdown of the same size.
// A linear renderer keeps every ratio small; a backtracking pattern shows as a ratio in the tens.
import {
  BODY_BYTES,
  adversarialMarkdown,
  fastestRenderMs,
  ordinaryMarkdown,
} from '../src/test-support/adversarial-markdown.js';
import { fmt, markdownTable, ratio, say } from './support.js';

const RUNS = 20;

const reference = fastestRenderMs(ordinaryMarkdown(), RUNS);
const rows = Object.entries(adversarialMarkdown()).map(([name, input]) => {
  const ms = fastestRenderMs(input, RUNS);
  return [name, fmt(ms, 2), fmt(reference, 2), ratio(ms, reference)];
});
say(
  `renderMarkdown on ${BODY_BYTES / 1024} KiB inputs, fastest of ${RUNS} runs (ms); reference: ordinary Markdown of the same size`,
);
say(markdownTable(['input', 'ms', 'ordinary ms', 'ratio'], rows));
