// Configuration export and import (DESIGN.md §7): an instance's boards, approved applets (with
// their code) and settings as one JSON document — never users, keys, sessions, tokens, messages
// or secrets. Import applies a document idempotently, in one transaction: boards and applets are
// matched by name, created or brought to the document's values; a second import changes nothing.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { canonicalJson } from '../../../crypto/signing.js';
import type { Config } from '../../config.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { AppError, conflict } from '../../http/errors.js';
import { notifyOtherProcesses, type EventHub } from '../../services/event-hub.js';
import { assertCan } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import { APPLET_CODE_MAX_BYTES } from '../applets/routes.js';
import { AppletInput } from '../applets/schema.js';
import { BoardInput } from '../boards/schema.js';
import type { ContentService } from '../content/service.js';
import { channelName } from '../realtime/channels.js';

export const CONFIG_FORMAT = 'axon-config-v1';
/** A document's largest size, in bytes of JSON, both ways. */
export const CONFIG_MAX_BYTES = 8 * 1024 * 1024;

const ConfigBoard = z.strictObject({
  name: BoardInput.shape.name.refine(
    (n) => !n.toLowerCase().startsWith('applet:'),
    'applet: names belong to applets’ event boards',
  ),
  description: z.string().max(2000),
  is_realtime: z.boolean(),
  federation_room_id: BoardInput.shape.federation_room_id.unwrap(),
  message_retention_days: z.number().int().min(1).max(36500).nullable(),
  read_access: BoardInput.shape.read_access.unwrap(),
  post_access: BoardInput.shape.post_access.unwrap(),
  position: BoardInput.shape.position.unwrap(),
  thread_order: BoardInput.shape.thread_order.unwrap(),
  is_archived: z.boolean(),
});

const ConfigApplet = z.strictObject({
  name: AppletInput.shape.name,
  description: z.string().max(2000),
  parameters: AppletInput.shape.parameters.unwrap(),
  is_debug_mode: z.boolean(),
  handles_mime_types: AppletInput.shape.handles_mime_types.unwrap(),
  code: z
    .strictObject({
      content_hash: z.string().regex(/^[0-9a-f]{64}$/),
      size: z.number().int().min(0).max(APPLET_CODE_MAX_BYTES),
      data: z.base64().max(Math.ceil(APPLET_CODE_MAX_BYTES / 3) * 4),
    })
    .nullable(),
});

/** Settings come from the environment: exported for the record, never applied by an import. */
const ConfigSettings = z.strictObject({
  upload_limit: z.number().int().min(0),
  upload_quota_bytes: z.number().int().min(0),
  upload_quota_files: z.number().int().min(0),
  register_pow_bits: z.number().int().min(0).max(64),
  federation_backfill: z.number().int().min(0),
});

export const ConfigDocument = z.strictObject({
  format: z.literal(CONFIG_FORMAT),
  exported_at: z.iso.datetime({ offset: false }),
  instance: z.strictObject({
    nickname: z.string().min(1).max(100),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  boards: z.array(ConfigBoard).max(1000),
  applets: z.array(ConfigApplet).max(200),
  settings: ConfigSettings,
});

export type ConfigDocument = z.output<typeof ConfigDocument>;
type ConfigBoard = z.output<typeof ConfigBoard>;
type ConfigApplet = z.output<typeof ConfigApplet>;

export interface ImportCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface ImportResult {
  boards: ImportCounts;
  applets: ImportCounts;
  /** Settings of the document that differ from this instance's (set them in its environment). */
  settings_differ: string[];
}

/** Parses an untrusted document: a 400 VALIDATION_ERROR naming every field at fault. */
export function parseConfigDocument(input: unknown): ConfigDocument {
  const parsed = ConfigDocument.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.slice(0, 20).map((i) => ({
    field: ['document', ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  throw new AppError(400, 'VALIDATION_ERROR', `${fields[0]!.field}: ${fields[0]!.message}`, {
    fields,
  });
}

export class ConfigTransfer {
  constructor(
    private readonly database: AxonDatabase,
    private readonly content: ContentService,
    private readonly hub: EventHub,
    private readonly config: Config,
    private readonly instance: { nickname: string; fingerprint: string },
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  private settings(): z.output<typeof ConfigSettings> {
    return {
      upload_limit: this.config.uploadLimit,
      upload_quota_bytes: this.config.uploadQuota.bytes,
      upload_quota_files: this.config.uploadQuota.files,
      register_pow_bits: this.config.rateLimits.registerPowBits,
      federation_backfill: this.config.federation.backfill,
    };
  }

  /** The document; `by`: a sysop (absent: the operator, or a trusted peer's signed request). */
  async export(by?: User): Promise<ConfigDocument> {
    if (by !== undefined) assertCan(by, 'admin_board');
    const appletBoards = this.db.selectFrom('applets').select('event_board_id');
    const boards = await this.db
      .selectFrom('boards')
      .selectAll()
      .where('id', 'not in', appletBoards)
      .orderBy('position')
      .orderBy('name_lower')
      .execute();
    const applets = await this.db
      .selectFrom('applets')
      .selectAll()
      .where('status', '=', 'approved')
      .orderBy('name')
      .execute();
    let bytes = 0;
    const exported: ConfigApplet[] = [];
    for (const a of applets) {
      let code: ConfigApplet['code'] = null;
      const manifest = a.code_hash === null ? undefined : await this.content.manifest(a.code_hash);
      if (manifest !== undefined && manifest.size <= APPLET_CODE_MAX_BYTES) {
        const data = (await this.content.readAll(manifest)).toString('base64');
        bytes += data.length;
        if (bytes > CONFIG_MAX_BYTES) {
          throw new AppError(
            413,
            'PAYLOAD_TOO_LARGE',
            `the applets' code passes ${CONFIG_MAX_BYTES} bytes: the configuration cannot be exported whole`,
          );
        }
        code = { content_hash: manifest.content_hash, size: manifest.size, data };
      }
      exported.push({
        name: a.name,
        description: a.description,
        parameters: JSON.parse(a.parameters) as ConfigApplet['parameters'],
        is_debug_mode: Boolean(a.is_debug_mode),
        handles_mime_types: JSON.parse(a.handles_mime_types) as string[],
        code,
      });
    }
    return {
      format: CONFIG_FORMAT,
      exported_at: new Date().toISOString(),
      instance: { nickname: this.instance.nickname, fingerprint: this.instance.fingerprint },
      boards: boards.map((b) => ({
        name: b.name,
        description: b.description,
        is_realtime: Boolean(b.is_realtime),
        federation_room_id: b.federation_room_id,
        message_retention_days: b.message_retention_days,
        read_access: b.read_access as ConfigBoard['read_access'],
        post_access: b.post_access as ConfigBoard['post_access'],
        position: b.position,
        thread_order: b.thread_order as ConfigBoard['thread_order'],
        is_archived: Boolean(b.is_archived),
      })),
      applets: exported,
      settings: this.settings(),
    };
  }

  /**
   * Applies a document (parsed already) in one transaction; `by`: a sysop (absent: the operator).
   * Boards keep their id, messages and trusted_peers; applets their id, event board and data.
   */
  async import(document: ConfigDocument, by?: User): Promise<ImportResult> {
    if (by !== undefined) assertCan(by, 'admin_board');
    const names = new Set<string>();
    for (const [i, b] of document.boards.entries()) {
      if (names.has(b.name.toLowerCase()))
        throw fieldAt(`document.boards.${i}.name`, 'names a board twice');
      names.add(b.name.toLowerCase());
    }
    const appletNames = new Set<string>();
    for (const [i, a] of document.applets.entries()) {
      if (appletNames.has(a.name))
        throw fieldAt(`document.applets.${i}.name`, 'names an applet twice');
      appletNames.add(a.name);
    }
    // Code is content-addressed: stored before the transaction (kept only if referenced).
    const codeHashes = new Map<string, string>();
    for (const [i, a] of document.applets.entries()) {
      if (a.code === null) continue;
      const bytes = Buffer.from(a.code.data, 'base64');
      const manifest = await this.content.storeInternal(bytes, {
        filename: `${a.name}.js`,
        mime_type: 'text/javascript',
      });
      if (manifest.content_hash !== a.code.content_hash || manifest.size !== a.code.size)
        throw fieldAt(`document.applets.${i}.code`, 'the data does not hash to its content_hash');
      codeHashes.set(a.name, manifest.content_hash);
    }
    const changedBoards: string[] = [];
    const result = await this.db.transaction().execute(async (trx) => {
      const boards = await this.importBoards(trx, document.boards, changedBoards);
      const applets = await this.importApplets(trx, document.applets, codeHashes);
      for (const id of changedBoards) {
        await notifyOtherProcesses(
          trx,
          this.database.dialect,
          channelName({ kind: 'board', boardId: id }),
          0,
        );
      }
      return { boards, applets };
    });
    for (const id of changedBoards)
      this.hub.publish(channelName({ kind: 'board', boardId: id }), 0);
    const mine = this.settings();
    const settings_differ = Object.keys(mine).filter(
      (k) => mine[k as keyof typeof mine] !== document.settings[k as keyof typeof mine],
    );
    return { ...result, settings_differ };
  }

  private async importBoards(
    trx: Kysely<DatabaseSchema>,
    boards: ConfigBoard[],
    changed: string[],
  ): Promise<ImportCounts> {
    const counts: ImportCounts = { created: 0, updated: 0, unchanged: 0 };
    for (const [i, b] of boards.entries()) {
      const fields = {
        description: b.description,
        is_realtime: b.is_realtime,
        federation_room_id: b.federation_room_id,
        message_retention_days: b.message_retention_days,
        read_access: b.read_access,
        post_access: b.post_access,
        position: b.position,
        thread_order: b.thread_order,
        is_archived: b.is_archived,
      };
      const row = await trx
        .selectFrom('boards')
        .selectAll()
        .where('name_lower', '=', b.name.toLowerCase())
        .executeTakeFirst();
      if (b.federation_room_id !== null) {
        const holder = await trx
          .selectFrom('boards')
          .select('name')
          .where('federation_room_id', '=', b.federation_room_id)
          .executeTakeFirst();
        if (holder !== undefined && holder.name.toLowerCase() !== b.name.toLowerCase()) {
          throw conflict(
            'ROOM_TAKEN',
            `the board ${holder.name} here uses that federation_room_id`,
            {
              fields: [{ field: `document.boards.${i}.federation_room_id`, message: 'is taken' }],
            },
          );
        }
      }
      const now = Date.now();
      if (row === undefined) {
        const id = uuidv7();
        await trx
          .insertInto('boards')
          .values({
            id,
            name: b.name,
            name_lower: b.name.toLowerCase(),
            ...fields,
            trusted_peers: '[]',
            created_at: now,
            updated_at: now,
          })
          .execute();
        counts.created++;
        continue;
      }
      const same =
        row.description === fields.description &&
        Boolean(row.is_realtime) === fields.is_realtime &&
        row.federation_room_id === fields.federation_room_id &&
        (row.message_retention_days === null ? null : Number(row.message_retention_days)) ===
          fields.message_retention_days &&
        row.read_access === fields.read_access &&
        row.post_access === fields.post_access &&
        Number(row.position) === fields.position &&
        row.thread_order === fields.thread_order &&
        Boolean(row.is_archived) === fields.is_archived;
      if (same) {
        counts.unchanged++;
        continue;
      }
      await trx
        .updateTable('boards')
        .set({ ...fields, updated_at: now })
        .where('id', '=', row.id)
        .execute();
      changed.push(row.id);
      counts.updated++;
    }
    return counts;
  }

  private async importApplets(
    trx: Kysely<DatabaseSchema>,
    applets: ConfigApplet[],
    codeHashes: Map<string, string>,
  ): Promise<ImportCounts> {
    const counts: ImportCounts = { created: 0, updated: 0, unchanged: 0 };
    for (const a of applets) {
      const codeHash = codeHashes.get(a.name) ?? null;
      const fields = {
        description: a.description,
        parameters: canonicalJson(a.parameters),
        is_debug_mode: a.is_debug_mode,
        handles_mime_types: JSON.stringify(a.handles_mime_types),
        code_hash: codeHash,
        status: 'approved' as const,
      };
      const row = await trx
        .selectFrom('applets')
        .selectAll()
        .where('name', '=', a.name)
        .executeTakeFirst();
      const now = Date.now();
      if (row === undefined) {
        const id = uuidv7();
        const boardId = uuidv7();
        await trx
          .insertInto('boards')
          .values({
            id: boardId,
            name: `applet:${a.name}`,
            name_lower: `applet:${a.name.toLowerCase()}`,
            description: `Events of the applet ${a.name}`,
            is_realtime: true,
            federation_room_id: null,
            message_retention_days: 30,
            read_access: 'members',
            post_access: 'members',
            created_at: now,
            updated_at: now,
          })
          .execute();
        await trx
          .insertInto('applets')
          .values({
            id,
            name: a.name,
            event_board_id: boardId,
            owner_id: null,
            created_at: now,
            ...fields,
          })
          .execute();
        if (codeHash !== null) await this.refCode(trx, id, codeHash, now);
        counts.created++;
        continue;
      }
      const same =
        row.description === fields.description &&
        canonicalJson(JSON.parse(row.parameters) as Record<string, unknown>) ===
          fields.parameters &&
        Boolean(row.is_debug_mode) === fields.is_debug_mode &&
        row.handles_mime_types === fields.handles_mime_types &&
        row.code_hash === fields.code_hash &&
        row.status === 'approved';
      if (same) {
        counts.unchanged++;
        continue;
      }
      await trx.updateTable('applets').set(fields).where('id', '=', row.id).execute();
      await trx
        .deleteFrom('content_refs')
        .where('kind', '=', 'applet')
        .where('ref_id', '=', row.id)
        .execute();
      if (codeHash !== null) await this.refCode(trx, row.id, codeHash, now);
      counts.updated++;
    }
    return counts;
  }

  private async refCode(trx: Kysely<DatabaseSchema>, id: string, hash: string, now: number) {
    await trx
      .insertInto('content_refs')
      .values({ content_hash: hash, kind: 'applet', ref_id: id, created_at: now })
      .execute();
  }
}

const fieldAt = (field: string, message: string) =>
  new AppError(400, 'VALIDATION_ERROR', `${field}: ${message}`, { fields: [{ field, message }] });
