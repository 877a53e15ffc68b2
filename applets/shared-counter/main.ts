// A multiplayer toy on shared room state: everyone in the room sees one counter; pressing the
// button writes version+1 by compare-and-set, and a conflicting write re-reads and retries.
import { createBbs } from '../../src/applet-sdk/index';

const bbs = createBbs();
const root = document.getElementById('applet-root')!;
const count = document.createElement('p');
count.id = 'count';
count.textContent = '…';
const button = document.createElement('button');
button.textContent = 'Press';
root.append(count, button);

const ROOM = 'counter';
let current = { version: 0, value: 0 };

bbs.subscribeSharedState<{ value: number }>(ROOM, (state) => {
  current = { version: state.version, value: state.state?.value ?? 0 };
  count.textContent = String(current.value);
});

button.addEventListener('click', () => {
  void (async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const written = await bbs.setSharedState(ROOM, current.version, {
          value: current.value + 1,
        });
        current = { version: written.version, value: written.state?.value ?? 0 };
        count.textContent = String(current.value);
        return;
      } catch {
        const fresh = await bbs.getSharedState<{ value: number }>(ROOM);
        current = { version: fresh.version, value: fresh.state?.value ?? 0 };
      }
    }
  })();
});
