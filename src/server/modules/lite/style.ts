// The one stylesheet of the pages without JavaScript: the web client's colours and spacing, in a
// few lines, served from this origin (nothing is loaded from anywhere else).
export const LITE_CSS = `
:root { color-scheme: light dark; --bg: #fafaf9; --fg: #1c1917; --dim: #57534e; --line: #e7e5e4; --accent: #1d4ed8; --mark: #fde68a; }
@media (prefers-color-scheme: dark) { :root { --bg: #1c1917; --fg: #f5f5f4; --dim: #a8a29e; --line: #44403c; --accent: #93c5fd; --mark: #854d0e; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
header nav { display: flex; flex-wrap: wrap; gap: 1rem; }
.home { font-weight: 700; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
ul.list { list-style: none; padding: 0; margin: 0; }
ul.list > li { padding: .75rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.meta, time { color: var(--dim); font-size: .875rem; }
article { padding: .75rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
article .body img { max-width: 100%; height: auto; }
pre { overflow-x: auto; }
mark { background: var(--mark); color: inherit; }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
form.inline { display: flex; gap: .5rem; flex-wrap: wrap; margin-bottom: 1rem; }
input, textarea, button, select { font: inherit; padding: .4rem .6rem; }
input[type=search], input[type=text] { flex: 1; min-width: 12rem; }
.notice { padding: .75rem; border: 1px solid var(--line); }
`;
