// HTML for the pages without JavaScript: a tagged template that escapes every value it is given
// (only Html made by this module passes unescaped), and the page around each screen.
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part));
}

/** html`<p>${text}</p>`: values are escaped unless they are Html. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Already-safe HTML from elsewhere in the server (the Markdown renderer's output). */
export const trusted = (value: string) => new Html(value);

export interface Layout {
  title: string;
  instance: string;
  /** Who is signed in (and the CSRF token of their forms; null with a bearer token), or null. */
  reader: { nickname: string; csrf: string | null; moderator: boolean } | null;
  /** The page reloads itself after this many seconds (the chat: no script to fetch new lines). */
  refreshSeconds?: number | undefined;
}

/** A whole page: no script, one stylesheet from this origin, a link back to the full client. */
export function page(layout: Layout, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        ${layout.refreshSeconds === undefined ? '' : html`<meta http-equiv="refresh" content="${layout.refreshSeconds}" />`}
        <title>${layout.title} · ${layout.instance}</title>
        <link rel="stylesheet" href="/lite/style.css" />
      </head>
      <body>
        <header>
          <a class="home" href="/lite/">${layout.instance}</a>
          <nav>
            <a href="/lite/search/">Search</a>
            ${
              layout.reader === null
                ? html`<a href="/lite/login/">Log in</a>`
                : html`<a href="/lite/private/">Messages</a>
                    <a href="/lite/chat/">Chat</a>
                    ${layout.reader.moderator ? html`<a href="/lite/moderation/reports/">Reports</a>` : ''}
                    <a href="/lite/profile/">${layout.reader.nickname}</a>${
                      layout.reader.csrf === null
                        ? ''
                        : html`<form class="inline" method="post" action="/lite/logout/">
                            <input type="hidden" name="csrf" value="${layout.reader.csrf}" /><button
                              type="submit"
                            >
                              Log out
                            </button>
                          </form>`
                    }`
            }
            <a href="/">Full version (JavaScript)</a>
          </nav>
        </header>
        <main>${body}</main>
      </body>
    </html> `.value;
}

/** A relative time people read at a glance, with the absolute UTC time beside it. */
export function when(at: number): Html {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}
