#!/usr/bin/env node
// The `axon` command: runs the compiled CLI (built by `npm install`, `npm start` or `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('axon: the project is not built yet; run `npm run build` first.');
  process.exit(1);
}
await import(entry.href);
