// The Markdown subset: what it renders, and that no payload in the XSS corpus yields HTML beyond
// the allowed tags, an attribute other than a safe link's, or a script URL.
import { describe, expect, it } from 'vitest';
import { XSS_PAYLOADS } from '../test-support/xss-corpus.js';
import {
  adversarialMarkdown,
  fastestRenderMs,
  ordinaryMarkdown,
} from '../test-support/adversarial-markdown.js';
import { assertInertHtml } from '../test-support/inert-html.js';
import { renderMarkdown } from './markdown.js';

describe('renderMarkdown', () => {
  it('renders the subset', () => {
    expect(renderMarkdown('**bold** and *em* and _em_ and ~~gone~~ and `a<b`')).toBe(
      '<p><strong>bold</strong> and <em>em</em> and <em>em</em> and <del>gone</del> and <code>a&lt;b</code></p>',
    );
    expect(renderMarkdown('# Title\n\nline one\nline two')).toBe(
      '<h3>Title</h3>\n<p>line one<br>line two</p>',
    );
    expect(renderMarkdown('- a\n- b\n\n1. c\n2. d')).toBe(
      '<ul><li>a</li><li>b</li></ul>\n<ol><li>c</li><li>d</li></ol>',
    );
    expect(renderMarkdown('> quoted\n> more')).toBe('<blockquote>quoted<br>more</blockquote>');
    expect(renderMarkdown('```\n**not bold** <b>\n```')).toBe(
      '<pre><code>**not bold** &lt;b&gt;</code></pre>',
    );
  });

  it('links http(s) and site paths, and leaves other schemes as text', () => {
    expect(renderMarkdown('[site](https://example.com/a?b=1&c=2)')).toBe(
      '<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">site</a></p>',
    );
    expect(renderMarkdown('see https://example.com/x.')).toBe(
      '<p>see <a href="https://example.com/x" rel="nofollow noopener noreferrer" target="_blank">https://example.com/x</a>.</p>',
    );
    expect(renderMarkdown('[board](/boards/1)')).toContain('href="/boards/1"');
    expect(renderMarkdown('[x](javascript:alert(1))')).toBe('<p>[x](javascript:alert(1))</p>');
    expect(renderMarkdown('[x](//evil.example)')).not.toContain('<a');
  });

  it('links only within the label and target bounds, the innermost bracket opening the label', () => {
    const at = (label: number, url: number) =>
      renderMarkdown(`[${'a'.repeat(label)}](/${'b'.repeat(url - 1)})`).includes('<a ');
    expect([at(1, 1), at(500, 2000), at(501, 2000), at(500, 2001)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(renderMarkdown('[[x](/a) [y] (/b) [z](/c d)')).toBe(
      '<p><a href="/a" rel="nofollow noopener noreferrer" target="_blank">[x</a> [y] (/b) [z](/c d)</p>',
    );
  });

  it('renders adversarial 64 KiB lines about as fast as ordinary Markdown of the same size', () => {
    // A ratio, not a time limit: the old link pattern re-scanned up to 2,500 characters from every
    // `[`, about 40 times the work of ordinary Markdown; here the worst input (a run of `*`, which
    // yields the most tags) costs about 3 times it.
    const reference = fastestRenderMs(ordinaryMarkdown(), 5);
    const slow = Object.entries(adversarialMarkdown())
      .map(([name, input]) => ({ name, ratio: fastestRenderMs(input, 5) / reference }))
      .filter(({ ratio }) => ratio > 10);
    expect(slow).toEqual([]);
  });

  it('escapes every character that could open markup', () => {
    expect(renderMarkdown(`<>&"'`)).toBe('<p>&lt;&gt;&amp;&quot;&#39;</p>');
  });

  it(`renders all ${XSS_PAYLOADS.length} payloads of the XSS corpus inert`, () => {
    for (const payload of XSS_PAYLOADS) {
      const html = renderMarkdown(payload);
      assertInertHtml(html);
      expect(html).not.toMatch(/href="(javascript|vbscript|data):/i);
    }
  });

  it('has an inertness check that does catch markup', () => {
    expect(() => assertInertHtml('<img src=x onerror=alert(1)>')).toThrow();
    expect(() => assertInertHtml('<a href="javascript:alert(1)">x</a>')).toThrow();
    expect(() => assertInertHtml('<p onclick="x">x</p>')).toThrow();
    expect(() => assertInertHtml('<p>ok</p>')).not.toThrow();
  });
});
