// Progress of a long backup or restore: a bar redrawn in place on a terminal, a line per tenth
// of each phase otherwise (logs, pipes, tests waiting for a phase).
export interface Progress {
  phase(name: string, total: number): void;
  step(): void;
  done(): void;
}

export function progressTo(stream: NodeJS.WriteStream | NodeJS.WritableStream): Progress {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  let name = '';
  let total = 0;
  let current = 0;
  let lastTenth = -1;
  const draw = () => {
    if (tty) {
      const width = 30;
      const filled = total === 0 ? width : Math.round((current / total) * width);
      stream.write(
        `\r${name.padEnd(10)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${current}/${total}`,
      );
      return;
    }
    const tenth = total === 0 ? 10 : Math.floor((current / total) * 10);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    stream.write(`${name} ${current}/${total}\n`);
  };
  const finishLine = () => {
    if (tty && name !== '') stream.write('\n');
  };
  return {
    phase(next, count) {
      finishLine();
      name = next;
      total = count;
      current = 0;
      lastTenth = -1;
      draw();
    },
    step() {
      current++;
      draw();
    },
    done: finishLine,
  };
}

export const silentProgress: Progress = { phase() {}, step() {}, done() {} };
