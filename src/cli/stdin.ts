// A secret given on standard input (a pipe, never the command line where `ps` would show it).
export class StdinUsageError extends Error {}

export async function readSecretFromStdin(flag: string): Promise<string> {
  if (process.stdin.isTTY) {
    throw new StdinUsageError(`${flag} reads from a pipe, e.g. printf %s "$SECRET" | axon …`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the shell's, not the secret's.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
