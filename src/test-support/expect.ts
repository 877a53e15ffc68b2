// Assertions many API tests share. Kept apart from app.ts, which benches load too (no vitest there).
import { expect } from 'vitest';

interface Answer {
  statusCode: number;
  json(): unknown;
}

/** A 400 naming `field` first, as schema validation and fieldError() answer bad input. */
export function expectFieldRefused(res: Answer, field: string): void {
  expect(res.statusCode).toBe(400);
  const body = res.json() as { error: { details: { fields: { field: string }[] } } };
  expect(body.error.details.fields[0]!.field).toBe(field);
}
