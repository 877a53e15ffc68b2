// Checks that rendered user text holds only the Markdown subset's tags and safe link attributes.
import { ALLOWED_TAGS } from '../shared/markdown.js';

const LINK_ATTRIBUTES =
  /^ href="(https?:\/\/[^"\s]+|\/(?!\/)[^"\s]*)" rel="nofollow noopener noreferrer" target="_blank"$/i;

/** Throws unless every tag in `html` is allowed and only links carry (safe) attributes. */
export function assertInertHtml(html: string): void {
  const withoutTags = html.replace(
    /<\/?([a-zA-Z0-9]+)([^<>]*)>/g,
    (whole, tag: string, attributes: string) => {
      const name = tag.toLowerCase();
      if (!(ALLOWED_TAGS as readonly string[]).includes(name))
        throw new Error(`tag <${name}> in ${html}`);
      if (whole.startsWith('</') || attributes === '') return '';
      if (name !== 'a' || !LINK_ATTRIBUTES.test(attributes))
        throw new Error(`attributes ${attributes} in ${html}`);
      return '';
    },
  );
  if (/[<>]/.test(withoutTags)) throw new Error(`stray angle bracket in ${html}`);
}
