// AxonChat as an applet: a chat room on the applet's own event bus. It shows the latest lines on
// the bus, then follows new ones over the long poll (subscribeEvents); each line is an event whose
// subject is "chat" and whose body is the text, shown with its author's nickname and the time in
// the reader's time zone (display_time). Everything is put on the page as text, never as HTML.
import { createBbs, type AppletEvent } from '../../src/applet-sdk/index';

const bbs = createBbs();
const root = document.getElementById('applet-root')!;

const style = document.createElement('style');
style.textContent = `
  #log { list-style: none; margin: 0; padding: 4px; height: 60vh; overflow-y: auto; }
  #log .who { color: #ffb000; }
  #log .when { color: #1d8a3c; }
  .compose { display: flex; gap: 4px; padding: 4px; }
  input { flex: 1; background: #000; color: #33ff66; border: 1px solid #1d8a3c; font: inherit; }
  button { background: #000; color: #33ff66; border: 1px solid #33ff66; font: inherit; }
  #problem { color: #ff6b6b; min-height: 1em; }
`;
const title = document.createElement('p');
title.id = 'title';
const log = document.createElement('ul');
log.id = 'log';
log.setAttribute('aria-label', 'Chat');
log.setAttribute('aria-live', 'polite');
// A div, not a form: the sandbox (no allow-forms) never submits a form, nor fires its submit event.
const form = document.createElement('div');
form.className = 'compose';
const input = document.createElement('input');
input.setAttribute('aria-label', 'Message');
input.maxLength = 2000;
input.autocomplete = 'off';
const send = document.createElement('button');
send.type = 'button';
send.textContent = 'Send';
const problem = document.createElement('p');
problem.id = 'problem';
problem.setAttribute('role', 'alert');
form.append(input, send);
root.append(style, title, log, form, problem);

/** Lines already shown (a line can come back in two reads around a send). */
const shown = new Set<string>();
const MAX_LINES = 500;

function show(events: AppletEvent[]) {
  for (const event of events) {
    if (event.subject !== 'chat' || shown.has(event.id)) continue;
    shown.add(event.id);
    const line = document.createElement('li');
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = `[${event.display_time}] `;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = `<${event.author_nickname}> `;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = event.body;
    line.append(when, who, text);
    log.append(line);
  }
  while (log.children.length > MAX_LINES) log.firstElementChild?.remove();
  log.scrollTop = log.scrollHeight;
}

function submit() {
  const text = input.value.trim();
  if (text === '') return;
  send.disabled = true;
  problem.textContent = '';
  bbs
    .postEvent('chat', text)
    .then((event) => {
      input.value = '';
      show([event]);
    })
    .catch((error: Error) => {
      problem.textContent = `Not sent: ${error.message}`;
    })
    .finally(() => {
      send.disabled = false;
      input.focus();
    });
}
send.addEventListener('click', submit);
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') submit();
});

void (async () => {
  const [user, info] = await Promise.all([bbs.getUserInfo(), bbs.getAppletInfo()]);
  title.textContent = `${info.name} — you are ${user.nickname}`;
  bbs.subscribeEvents(show, { recent: true });
})();
