// The spec's design on the same schedule: the server picks new messages up on a 1 s timer, each
// client polls on its own 2 s timer; all phases random (seeded).
import { SPEC_CLIENT_POLL_MS, SPEC_SERVER_POLL_MS } from './options.js';
import { seededRandom } from '../support.js';

export function specLatencies(
  schedule: readonly number[],
  clients: number,
  seed: number,
): number[] {
  const random = seededRandom(seed);
  const serverPhase = random() * SPEC_SERVER_POLL_MS;
  const clientPhases = Array.from({ length: clients }, () => random() * SPEC_CLIENT_POLL_MS);
  const nextTick = (t: number, phase: number, period: number) =>
    phase + Math.ceil((t - phase) / period) * period;
  const latencies: number[] = [];
  for (const t of schedule) {
    const pickedUp = nextTick(t, serverPhase, SPEC_SERVER_POLL_MS);
    for (const phase of clientPhases) {
      latencies.push(nextTick(pickedUp, phase, SPEC_CLIENT_POLL_MS) - t);
    }
  }
  return latencies;
}
