// The error catalogue (src/shared/errors.ts) is the whole truth about error codes: every code the
// server can answer with is in it, with the status it is answered with; every entry is used; the
// web client, the OpenAPI document and docs/api.md show exactly its list.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ERRORS, isErrorCode } from '../../shared/errors.js';
import { startTestApp, type TestApp } from '../../test-support/app.js';
import { HUMAN_ERRORS } from '../../web/api/errors.js';

const root = join(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const CODE = `'([A-Z][A-Z0-9_]*)'`;
// Where a code is written in the server: the helpers of http/errors.ts (with the status each one
// answers), AppError itself, and the `code:` of an error body (the error handler, sendError) and a helper's default code.
const HELPER_STATUS: Record<string, number> = {
  badRequest: 400,
  fieldError: 400,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
};
const PATTERNS: { pattern: RegExp; status: (match: RegExpExecArray) => number | undefined }[] = [
  { pattern: new RegExp(`new AppError\\(\\s*(\\d{3}),\\s*${CODE}`, 'g'), status: (m) => +m[1]! },
  {
    pattern: new RegExp(`\\b(badRequest|conflict)\\(\\s*${CODE}`, 'g'),
    status: (m) => HELPER_STATUS[m[1]!],
  },
  {
    // The code is the helper's last argument: match up to the call's closing parenthesis.
    pattern: new RegExp(
      `\\b(fieldError|forbidden|unauthorized)\\((?:[^()]|\\([^()]*\\))*?,\\s*${CODE},?\\s*\\)`,
      'g',
    ),
    status: (m) => HELPER_STATUS[m[1]!],
  },
  { pattern: new RegExp(`status: (\\d{3}),\\s*code: ${CODE}`, 'g'), status: (m) => +m[1]! },
  {
    pattern: new RegExp(`sendError\\(\\s*\\w+,\\s*(\\d{3}),\\s*\\{\\s*code: ${CODE}`, 'g'),
    status: (m) => +m[1]!,
  },
  { pattern: new RegExp(`\\bcode: ${CODE}`, 'g'), status: () => undefined },
  // A helper's default code (unauthorized(), forbidden(…)).
  { pattern: new RegExp(`\\bcode: ErrorCode = ${CODE}`, 'g'), status: () => undefined },
];

/** Every (file, code, status) the server source writes; status undefined where it is not literal. */
function codesInServer(): { file: string; code: string; status: number | undefined }[] {
  const found: { file: string; code: string; status: number | undefined }[] = [];
  for (const file of sourceFiles(join(root, 'src/server'))) {
    const text = readFileSync(file, 'utf8');
    for (const { pattern, status } of PATTERNS) {
      for (const match of text.matchAll(pattern)) {
        const code = match[match.length - 1]!;
        found.push({ file: file.slice(root.length + 1), code, status: status(match) });
      }
    }
  }
  return found;
}

describe('the error catalogue', () => {
  const found = codesInServer();

  it('lists every code the server writes, with the status it is answered with', () => {
    const outside = found.filter((f) => !isErrorCode(f.code));
    expect(outside).toEqual([]);
    const wrongStatus = found.filter(
      (f) =>
        f.status !== undefined &&
        f.code !== 'BAD_REQUEST' &&
        ERRORS[f.code as keyof typeof ERRORS].status !== f.status,
    );
    expect(wrongStatus).toEqual([]);
  });

  it('has no entry the server never writes', () => {
    const used = new Set(found.map((f) => f.code));
    expect(ERROR_CODES.filter((code) => !used.has(code))).toEqual([]);
  });

  it('has a human message in the web client for every code, and none for unknown codes', () => {
    expect(Object.keys(HUMAN_ERRORS).sort()).toEqual([...ERROR_CODES].sort());
    for (const message of Object.values(HUMAN_ERRORS)) expect(message).toMatch(/^[A-Z].*\.$/);
  });

  it('is the table of docs/api.md', () => {
    const doc = readFileSync(join(root, 'docs/api.md'), 'utf8');
    const table = /<!-- error-codes:start -->([\s\S]*?)<!-- error-codes:end -->/.exec(doc)?.[1];
    expect(table).toBeDefined();
    const rows = table!
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('|'))
      .slice(2)
      .map((line) =>
        line
          .slice(1, -1)
          .split(' | ')
          .map((cell) => cell.trim()),
      );
    expect(rows).toEqual(
      Object.entries(ERRORS).map(([code, e]) => [String(e.status), `\`${code}\``, e.when]),
    );
  });
});

describe('the error catalogue in the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.close());

  it('is the x-error-codes extension and the ErrorCode schema of the error envelope', async () => {
    const res = await t.app.inject({ url: '/openapi.json' });
    const doc = res.json() as {
      'x-error-codes': unknown;
      components: { schemas: Record<string, { enum?: string[] }> };
    };
    expect(doc['x-error-codes']).toEqual(ERRORS);
    expect(doc.components.schemas.ErrorCode?.enum).toEqual(ERROR_CODES);
    expect(JSON.stringify(doc.components.schemas.ErrorEnvelope)).toContain(
      '"#/components/schemas/ErrorCode"',
    );
  });
});
