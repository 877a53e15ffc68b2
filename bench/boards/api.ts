// The boards bench's calls to the Axon API: registering, creating boards, one timed request.
import http from 'node:http';
import { PAGE_LIMIT, PASSWORD, REQUEST_TIMEOUT_MS } from './options.js';
import { httpRequest } from '../support.js';
import { registrationProof } from '../../src/test-support/registration.js';
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

export function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

/** Asks the server to skip its page cache: the figure is then the database's, not the cache's. */
export const UNCACHED = { 'cache-control': 'no-cache' } as const;

export interface ApiCall {
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  json?: unknown;
  token?: string;
  agent?: http.Agent;
  expect?: number;
}

/** One API call; returns the envelope's data, or throws with the answer when it is not `expect`. */
export async function api(url: string, call: ApiCall = {}): Promise<{ data: unknown; ms: number }> {
  const answer = await httpRequest({
    url,
    method: call.method ?? 'GET',
    json: call.json,
    agent: call.agent,
    headers: {
      ...(call.token === undefined ? {} : { authorization: `Bearer ${call.token}` }),
      ...call.headers,
    },
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const expect = call.expect ?? 200;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    parsed = undefined;
  }
  if (answer.status !== expect || field(parsed, 'success') !== true) {
    throw new Error(
      `${call.method ?? 'GET'} ${url} answered ${answer.status}: ${answer.body.slice(0, 300)}`,
    );
  }
  return { data: field(parsed, 'data'), ms: answer.ms };
}

export async function register(base: string, username: string): Promise<string> {
  const { data } = await api(`${base}/api/auth/register/`, {
    method: 'POST',
    json: { username, password: PASSWORD, ...(await registrationProof(base)) },
    expect: 201,
  });
  return asString(field(data, 'token'), 'register token');
}

export async function createBoard(base: string, token: string, name: string): Promise<string> {
  const { data } = await api(`${base}/api/boards/`, {
    method: 'POST',
    token,
    json: { name, message_retention_days: null },
    expect: 201,
  });
  return asString(field(data, 'id'), 'board id');
}

export const pageUrl = (base: string, board: string, cursor?: string) =>
  `${base}/api/boards/${board}/messages/?limit=${PAGE_LIMIT}` +
  (cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`);
