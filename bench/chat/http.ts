// The poster's side: one node:http request, the envelope's data, registering a reader.
import http from 'node:http';
import { PASSWORD, REQUEST_TIMEOUT_MS } from './options.js';
import { registrationProof } from '../../src/test-support/registration.js';
export interface Answer {
  status: number;
  body: string;
  /** performance.now() when the last byte arrived. */
  at: number;
}

export function request(
  url: string,
  options: { agent: http.Agent; method?: 'GET' | 'POST'; json?: unknown; token?: string },
): Promise<Answer> {
  const body = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  const headers: http.OutgoingHttpHeaders = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        headers,
        agent: options.agent,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            at: performance.now(),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function dataOf<T>(answer: Answer, expected: number, what: string): T {
  if (answer.status !== expected) throw new Error(`${what}: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { data: T }).data;
}

export async function register(url: string, agent: http.Agent, username: string): Promise<string> {
  const answer = await request(`${url}/api/auth/register/`, {
    agent,
    method: 'POST',
    json: { username, password: PASSWORD, ...(await registrationProof(url)) },
  });
  return dataOf<{ token: string }>(answer, 201, `register ${username}`).token;
}
