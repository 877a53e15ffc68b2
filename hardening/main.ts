// `npm run hardening`: runs every check in hardening/checks/ (sorted by file name), prints one
// table (check, cases, failures) with the failure lines and notes under it, exits 1 on any failure.
// Flags: --long (more iterations), --seed N (default fixed), --only <name> (one check).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Check, CheckOptions, CheckResult } from './check.js';

/** The seed CI runs with, so a failure found there repeats on any machine. */
export const DEFAULT_SEED = 12;

const CHECKS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'checks');

async function loadChecks(only: string | undefined): Promise<Check[]> {
  const files = readdirSync(CHECKS_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const checks: Check[] = [];
  for (const file of files) {
    const check = (
      (await import(pathToFileURL(path.join(CHECKS_DIR, file)).href)) as {
        default: Check;
      }
    ).default;
    if (only === undefined || check.name === only) checks.push(check);
  }
  if (only !== undefined && checks.length === 0) throw new Error(`no check is named ${only}`);
  return checks;
}

async function runOne(check: Check, options: CheckOptions): Promise<CheckResult> {
  try {
    return await check.run(options);
  } catch (error) {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { cases: 0, failures: [`the check itself threw: ${reason}`] };
  }
}

function table(rows: Array<{ name: string; result: CheckResult; seconds: number }>): string {
  const header = ['check', 'cases', 'failures', 'seconds'];
  const body = rows.map((r) => [
    r.name,
    String(r.result.cases),
    String(r.result.failures.length),
    r.seconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      long: { type: 'boolean', default: false },
      seed: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed wants an integer, not ${values.seed}`);
  const options: CheckOptions = { long: values.long ?? false, seed };
  const checks = await loadChecks(values.only);
  console.log(
    `security suite: ${checks.length} checks, seed ${seed}${options.long ? ', long' : ''}`,
  );
  const rows: Array<{ name: string; result: CheckResult; seconds: number }> = [];
  for (const check of checks) {
    const started = performance.now();
    const result = await runOne(check, options);
    rows.push({ name: check.name, result, seconds: (performance.now() - started) / 1000 });
    console.log(`  ${check.name}: ${result.cases} cases, ${result.failures.length} failures`);
  }
  console.log(`\n${table(rows)}`);
  for (const { name, result } of rows) {
    if (result.failures.length > 0) {
      console.log(`\n${name}: ${result.failures.length} failures`);
      for (const failure of result.failures) console.log(`  ✗ ${failure}`);
    }
    if (result.notes !== undefined && result.notes.length > 0) {
      console.log(`\n${name}:`);
      for (const note of result.notes) console.log(`  ${note}`);
    }
  }
  return rows.some((r) => r.result.failures.length > 0) ? 1 : 0;
}

process.exitCode = await main();
