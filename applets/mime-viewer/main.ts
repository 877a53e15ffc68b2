// A MIME-handler viewer: opened on an attachment ("Open with …"), it asks which attachment it was
// given (getAttachmentContext), fetches its bytes (getAttachmentBlob) and shows them — images as an
// image, CSV as a table, JSON indented, any other text as text. Everything is put on the page as
// text or as a blob: image, never as HTML, and what it shows is bounded (a large file is cut).
// Register it with handles_mime_types such as
// ["text/plain", "text/csv", "text/markdown", "application/json", "image/png", "image/jpeg",
//  "image/gif", "image/webp"].
import { createBbs } from '../../src/applet-sdk/index';

const bbs = createBbs();
const root = document.getElementById('applet-root')!;

/** The most text shown, and the most table rows and columns. */
const MAX_TEXT_BYTES = 1024 * 1024;
const MAX_ROWS = 1000;
const MAX_COLUMNS = 50;

const style = document.createElement('style');
style.textContent = `
  #view { padding: 4px; }
  table { border-collapse: collapse; }
  td, th { border: 1px solid #1d8a3c; padding: 2px 6px; text-align: left; }
  img { max-width: 100%; }
  pre { white-space: pre-wrap; word-break: break-word; }
`;
const heading = document.createElement('p');
heading.id = 'heading';
const note = document.createElement('p');
note.id = 'note';
const view = document.createElement('div');
view.id = 'view';
root.append(style, heading, note, view);

/** CSV fields of one text (RFC 4180 quoting), at most MAX_ROWS rows of MAX_COLUMNS fields. */
function parseCsv(text: string): { rows: string[][]; cut: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      rows.push(row.slice(0, MAX_COLUMNS));
      row = [];
      if (rows.length >= MAX_ROWS) return { rows, cut: i < text.length - 1 };
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row.slice(0, MAX_COLUMNS));
  }
  return { rows, cut: false };
}

function showTable(rows: string[][]) {
  const table = document.createElement('table');
  rows.forEach((fields, index) => {
    const tr = document.createElement('tr');
    for (const field of fields) {
      const cell = document.createElement(index === 0 ? 'th' : 'td');
      cell.textContent = field;
      tr.append(cell);
    }
    table.append(tr);
  });
  view.append(table);
}

function showText(text: string) {
  const pre = document.createElement('pre');
  pre.textContent = text;
  view.append(pre);
}

void (async () => {
  const attachment = await bbs.getAttachmentContext();
  if (attachment === null) {
    heading.textContent = 'Open an attachment with this viewer ("Open with …" on a message).';
    return;
  }
  heading.textContent = `${attachment.filename} · ${attachment.mime_type} · ${attachment.size} bytes`;
  let blob: Blob;
  try {
    blob = await bbs.getAttachmentBlob(attachment.hash);
  } catch (error) {
    note.textContent = `Could not read the attachment: ${(error as Error).message}`;
    return;
  }
  const type = attachment.mime_type.split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('image/')) {
    const image = document.createElement('img');
    image.alt = attachment.filename;
    image.src = URL.createObjectURL(new Blob([blob], { type }));
    view.append(image);
    return;
  }
  const cut = blob.size > MAX_TEXT_BYTES;
  const text = new TextDecoder().decode(await blob.slice(0, MAX_TEXT_BYTES).arrayBuffer());
  if (cut) note.textContent = `Showing the first ${MAX_TEXT_BYTES} of ${blob.size} bytes.`;
  if (type === 'text/csv') {
    const table = parseCsv(text);
    if (table.cut) note.textContent = `Showing the first ${MAX_ROWS} rows.`;
    showTable(table.rows);
  } else if (type === 'application/json' && !cut) {
    try {
      showText(JSON.stringify(JSON.parse(text), null, 2));
    } catch {
      note.textContent = 'This is not valid JSON; shown as text.';
      showText(text);
    }
  } else showText(text);
})();
