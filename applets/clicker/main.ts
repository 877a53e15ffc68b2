// A small game with saved progress and high scores: press as fast as you can for a round of ten
// presses' worth of points; your level and best round are kept in your applet data, each round is
// submitted as a (self-reported) score, and the table shows the best players.
import { createBbs } from '../../src/applet-sdk/index';

const bbs = createBbs();
const root = document.getElementById('applet-root')!;

interface Progress {
  level: number;
  rounds: number;
}

const status = document.createElement('p');
status.id = 'status';
const press = document.createElement('button');
press.textContent = 'Press';
const table = document.createElement('ol');
table.id = 'scores';
root.append(status, press, table);

let progress: Progress = { level: 1, rounds: 0 };
let presses = 0;

const show = () => {
  status.textContent = `Level ${progress.level} · rounds ${progress.rounds} · presses ${presses}/10`;
};

async function showScores() {
  const scores = await bbs.getHighScores();
  table.replaceChildren(
    ...scores.map((s) => {
      const item = document.createElement('li');
      item.textContent = `${s.nickname}: ${s.score}`;
      return item;
    }),
  );
}

press.addEventListener('click', () => {
  presses++;
  if (presses < 10) return show();
  presses = 0;
  progress = { level: progress.level + 1, rounds: progress.rounds + 1 };
  show();
  void (async () => {
    await bbs.saveData(progress);
    await bbs.submitScore({ score: progress.level * 100, level: progress.level, wins: 1 });
    await showScores();
  })();
});

void (async () => {
  progress = (await bbs.getData<Progress>()) ?? progress;
  show();
  await showScores();
})();
