// Everything a database holds, as one text, for tests that prove a secret is nowhere in it.
import type { AxonDatabase } from '../server/db/database.js';

/**
 * Every value of every row of every table (but those in `skip`), as text (binary columns in
 * several encodings).
 */
export async function dumpDatabase(
  t: { ctx: { database: AxonDatabase } },
  skip: readonly string[] = [],
): Promise<string> {
  const db = t.ctx.database.db;
  const tables = await db.introspection.getTables();
  const out: string[] = [];
  for (const table of tables) {
    if (skip.includes(table.name)) continue;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- every table, whatever its row type
    const rows = await (db as any).selectFrom(table.name).selectAll().execute();
    for (const row of rows as Array<Record<string, unknown>>) {
      for (const value of Object.values(row)) {
        if (Buffer.isBuffer(value))
          out.push(value.toString('latin1'), value.toString('base64'), value.toString('hex'));
        else out.push(String(value));
      }
    }
  }
  return out.join('\n');
}
