// The federation bench's command-line choices and fixed figures.
// --quick: small sizes, to check the bench itself; its figures mean nothing.
// --messages=N (catch-up), --attachment-mib=N, --fanout-posts=N override the sizes.
// --only=catch-up,attachments,fan-out runs those parts only; --cpu-prof=DIR starts every instance
// under node --cpu-prof writing its profiles into DIR (open them in Chrome's DevTools).
const argValue = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** A positive integer option, at most `max`, else its default. */
function sizeOption(name: string, fallback: number, max: number): number {
  const given = argValue(name);
  if (given === undefined) return fallback;
  const value = Number(given);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`--${name} must be a whole number from 1 to ${max}`);
  }
  return value;
}

export const QUICK = process.argv.includes('--quick');
const PARTS = ['catch-up', 'attachments', 'fan-out', 'live'] as const;
export type Part = (typeof PARTS)[number];
const only = argValue('only')?.split(',');
const unknownPart = only?.find((p) => !(PARTS as readonly string[]).includes(p));
if (unknownPart !== undefined) {
  throw new Error(`--only takes parts among ${PARTS.join(', ')}, not ${unknownPart}`);
}
/** Whether this run measures that part. */
export const runs = (part: Part): boolean => only === undefined || only.includes(part);
/** Node options for every instance (--cpu-prof=DIR). */
export const INSTANCE_NODE_ARGS: string[] =
  argValue('cpu-prof') === undefined
    ? []
    : ['--cpu-prof', `--cpu-prof-dir=${argValue('cpu-prof')}`];
export const MiB = 1024 * 1024;
export const MESSAGES = sizeOption('messages', QUICK ? 200 : 10_000, 100_000);
export const ATTACHMENT_BYTES = sizeOption('attachment-mib', QUICK ? 16 : 256, 4096) * MiB;
export const FANOUT_PEERS = 5;
export const FANOUT_POSTS = sizeOption('fanout-posts', QUICK ? 3 : 15, 1000);
/** Posts on A at once while B is away (the poster's own pace is not what is measured). */
export const POSTING_CONCURRENCY = 4;
/** The simulated Tor link. */
export const SLOW_LINK = { roundTripMs: 500, bytesPerSecond: MiB };
/**
 * Cited, not measured: Lemmy's sequential per-peer delivery reaches about 1.8 activities/s at a
 * 556 ms round trip (LemmyNet/lemmy issue #4529).
 */
export const LEMMY_ACTIVITIES_PER_S = 1.8;
export const ROOM = 'bench-lobby';
export const FANOUT_ROOM = 'bench-fanout';
/** Live rooms: long-poll clients waiting on each instance, and posts timed (--live-posts=N). */
export const LIVE_CLIENTS = 100;
export const LIVE_POSTS = sizeOption('live-posts', QUICK ? 3 : 30, 1000);
export const LIVE_ROOM = 'bench-live';
