// Regenerates docs/bitsync-test-vector.json: node --import tsx scripts/bitsync-test-vector.ts [--new-key]
import { fileURLToPath } from 'node:url';
import { regenerateTestVector } from '../src/bitsync/test-vector.js';

const file = fileURLToPath(new URL('../docs/bitsync-test-vector.json', import.meta.url));
const vector = await regenerateTestVector(file, process.argv.includes('--new-key'));
console.log(`wrote ${file}: content ${vector.content_hash}, key ${vector.rsa_key.fingerprint}`);
