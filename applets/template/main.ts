// The applet template: copy this folder, rename it, and build from here. It greets the user,
// keeps a visit count in the user's applet data, and shows where the applet's UI goes.
import { createBbs } from '../../src/applet-sdk/index';

const bbs = createBbs();
const root = document.getElementById('applet-root')!;

void (async () => {
  const [user, info] = await Promise.all([bbs.getUserInfo(), bbs.getAppletInfo()]);
  const saved = (await bbs.getData<{ visits: number }>()) ?? { visits: 0 };
  saved.visits += 1;
  await bbs.saveData(saved);
  const greeting = document.createElement('p');
  greeting.id = 'greeting';
  greeting.textContent = `Hello ${user.nickname}, welcome to ${info.name} (visit ${saved.visits}).`;
  root.append(greeting);
})();
