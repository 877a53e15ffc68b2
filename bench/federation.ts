// The federation benchmark: real `axon start` instances on loopback (SQLite), printing one table
// with each figure beside a reference measured in the same run (one cited constant, labelled):
// catch-up of a peer that was away (over loopback against the receiver's in-process inbox, and
// over a simulated Tor link against Lemmy's sequential delivery), attachment replication against
// raw HTTP downloads of the same bytes, fan-out of one post to 5 peers, and a live room's post on
// A to 100 long polls on B beside the same post to 100 long polls on A. The parts live in
// bench/federation/. --quick runs small sizes that only check the bench itself.
import { fmt, loadAverage, markdownTable, ratio, say } from './support.js';
import { runAttachments, type AttachmentFigures } from './federation/attachments.js';
import { behindSlowLink, runCatchUp, type CatchUp } from './federation/catch-up.js';
import { runFanOut, type FanOut } from './federation/fan-out.js';
import { launchInstance } from './federation/instances.js';
import { runLive } from './federation/live.js';
import {
  ATTACHMENT_BYTES,
  FANOUT_PEERS,
  FANOUT_POSTS,
  LIVE_CLIENTS,
  LIVE_POSTS,
  LEMMY_ACTIVITIES_PER_S,
  MESSAGES,
  MiB,
  QUICK,
  SLOW_LINK,
  runs,
} from './federation/options.js';

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  say(
    `sizes: ${MESSAGES} messages, ${ATTACHMENT_BYTES / MiB} MiB attachment, ` +
      `${FANOUT_POSTS} posts to ${FANOUT_PEERS} peers${QUICK ? ' (--quick: figures mean nothing)' : ''}`,
  );
  const toA = await behindSlowLink();
  const a = await launchInstance(
    'a',
    { ...toA.env, AXON_UPLOAD_LIMIT: String(ATTACHMENT_BYTES + MiB) },
    toA.port,
  );
  try {
    const catchUp = runs('catch-up') ? await runCatchUp(a, toA.link) : undefined;
    if (runs('attachments')) say('attachment references');
    const attachments = runs('attachments') ? await runAttachments(a) : undefined;
    if (runs('fan-out')) say('fan-out');
    const fanOut = runs('fan-out') ? await runFanOut(a) : undefined;
    if (runs('live')) say('live rooms');
    const liveFigures = runs('live') ? await runLive(a) : undefined;
    const link = `${SLOW_LINK.roundTripMs} ms round trip, ${SLOW_LINK.bytesPerSecond / MiB} MiB/s`;
    const catchUpRows = (catchUp: CatchUp) => [
      [
        `Catch-up, ${MESSAGES} messages, loopback`,
        `${fmt(catchUp.direct)} msg/s`,
        `${fmt(catchUp.floor)} msg/s: the receiver's inbox service applying the same objects in-process`,
        ratio(catchUp.direct, catchUp.floor),
        '≥ 0.5',
      ],
      [
        `Catch-up, ${MESSAGES} messages, slow link (${link})`,
        `${fmt(catchUp.slow)} msg/s`,
        `${LEMMY_ACTIVITIES_PER_S} activities/s: Lemmy's sequential delivery at 556 ms RTT (cited, LemmyNet/lemmy#4529, not measured)`,
        ratio(catchUp.slow, LEMMY_ACTIVITIES_PER_S),
        '',
      ],
    ];
    const attachmentRows = (attachments: AttachmentFigures) => [
      [
        `Attachment, ${ATTACHMENT_BYTES / MiB} MiB, A → B federated, direct`,
        `${fmt(attachments.federatedDirect)} MiB/s from the post until B holds it verified`,
        `${fmt(attachments.direct)} MiB/s: raw HTTP download from A, direct`,
        ratio(attachments.federatedDirect, attachments.direct),
        '≥ 0.5',
      ],
      [
        `Attachment, ${ATTACHMENT_BYTES / MiB} MiB, A → B federated, through microsocks`,
        `${fmt(attachments.federatedSocks)} MiB/s from the post until B holds it verified`,
        `${fmt(attachments.socks)} MiB/s: raw HTTP download from A through microsocks`,
        ratio(attachments.federatedSocks, attachments.socks),
        '≥ 0.5',
      ],
      [
        `Attachment, ${ATTACHMENT_BYTES / MiB} MiB, A → B federated, direct`,
        `${fmt(attachments.federatedDirect)} MiB/s`,
        `${fmt(attachments.floor)} MiB/s: the floor, the per-chunk signing and checks in one process`,
        ratio(attachments.federatedDirect, attachments.floor),
        '≥ 0.83 (within 1.2×)',
      ],
      [
        `Attachment, ${ATTACHMENT_BYTES / MiB} MiB, A → B federated, through microsocks`,
        `${fmt(attachments.federatedSocks)} MiB/s`,
        `${fmt(attachments.floor)} MiB/s: the same floor`,
        ratio(attachments.federatedSocks, attachments.floor),
        '≥ 0.83 (within 1.2×)',
      ],
      [
        `Attachment, ${ATTACHMENT_BYTES / MiB} MiB, raw HTTP through microsocks`,
        `${fmt(attachments.socks)} MiB/s`,
        `${fmt(attachments.direct)} MiB/s: the same download, direct`,
        ratio(attachments.socks, attachments.direct),
        '',
      ],
    ];
    const fanOutRows = (fanOut: FanOut) => [
      [
        `Fan-out, 1 post to ${FANOUT_PEERS} peers (p50 of ${FANOUT_POSTS})`,
        `${fmt(fanOut.last)} ms until the last has it`,
        `${fmt(fanOut.first)} ms until the first has it`,
        ratio(fanOut.last, fanOut.first),
        '',
      ],
    ];
    const liveRows = (live: NonNullable<typeof liveFigures>) => [
      [
        `Live room, post on A → long poll on B, ${LIVE_CLIENTS} clients waiting (${LIVE_POSTS} posts)`,
        `p50 ${fmt(live.remote.p50)} ms, p99 ${fmt(live.remote.p99)} ms`,
        `p50 ${fmt(live.local.p50)} ms, p99 ${fmt(live.local.p99)} ms: the same posts to ${LIVE_CLIENTS} clients waiting on A`,
        ratio(live.remote.p50, live.local.p50),
        'p50 ≤ 50 ms, p99 ≤ 200 ms',
      ],
    ];
    const rows = [
      ...(catchUp === undefined ? [] : catchUpRows(catchUp)),
      ...(attachments === undefined ? [] : attachmentRows(attachments)),
      ...(fanOut === undefined ? [] : fanOutRows(fanOut)),
      ...(liveFigures === undefined ? [] : liveRows(liveFigures)),
    ];
    console.log();
    console.log(
      markdownTable(['Measure', 'Axon', 'Reference (same run)', 'Ratio', 'Target'], rows),
    );
    console.log();
    if (catchUp !== undefined)
      say(
        `the slow link carried ${fmt(catchUp.carried.up / MiB, 2)} MiB up, ` +
          `${fmt(catchUp.carried.down / MiB, 2)} MiB down during the catch-up over it`,
      );
  } finally {
    await a.close();
    await toA.link.close();
  }
  say(`load average at start ${loadAtStart}, at end ${loadAverage()}`);
}

await main();
