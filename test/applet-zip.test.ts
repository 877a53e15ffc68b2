// axon-zip, the bounded ZIP reader handed to applet frames (and bundled by the SDK), and its JSZip
// subset: archives made here byte by byte (stored and deflated entries) read back exactly; what
// is damaged, too big, encrypted, ZIP64 or a "bomb" is refused with an error naming the problem.
import { beforeAll, describe, expect, it } from 'vitest';
import type { AxonZip } from '../src/applet-sdk/libraries/axon-zip.js';
import { zip } from '../src/test-support/zip.js';

let AxonZip: AxonZip;
let JSZip: {
  loadAsync(
    data: Blob,
  ): Promise<{ files: Record<string, { dir: boolean; async(t: string): Promise<unknown> }> }>;
};

beforeAll(async () => {
  await import('../src/applet-sdk/libraries/axon-zip.js');
  // @ts-expect-error: a classic script without types of its own; it sets globalThis.JSZip.
  await import('../src/applet-sdk/libraries/jszip-compat.js');
  AxonZip = globalThis.AxonZip;
  JSZip = (globalThis as unknown as { JSZip: typeof JSZip }).JSZip;
});

const open = (bytes: Buffer, limits?: Parameters<AxonZip['open']>[1]) =>
  AxonZip.open(new Blob([bytes]), limits);

describe('axon-zip', () => {
  const text = Buffer.from('hello, asset package\n'.repeat(200));
  const binary = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));

  it('reads stored and deflated entries, directories and UTF-8 names exactly', async () => {
    const archive = await open(
      zip([
        { name: 'models/', data: Buffer.alloc(0), method: 0 },
        { name: 'models/ship.txt', data: text },
        { name: 'raw.bin', data: binary, method: 0 },
        { name: 'küste.png', data: binary },
      ]),
    );
    expect(archive.entries.map((e) => [e.name, e.dir, e.size])).toEqual([
      ['models/', true, 0],
      ['models/ship.txt', false, text.length],
      ['raw.bin', false, binary.length],
      ['küste.png', false, binary.length],
    ]);
    expect(await archive.file('models/ship.txt')!.text()).toBe(text.toString());
    expect(Buffer.from(await archive.file('raw.bin')!.bytes())).toEqual(binary);
    const png = await archive.file('küste.png')!.blob();
    expect(png.type).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer())).toEqual(binary);
    expect(archive.file('missing')).toBeNull();
    expect(archive.file('__proto__')).toBeNull();
  });

  it('refuses what is not a ZIP, or is damaged, encrypted or ZIP64', async () => {
    await expect(open(Buffer.from('not a zip at all'))).rejects.toThrow('not a ZIP archive');
    await expect(open(zip([{ name: 'a', data: text }]).subarray(40))).rejects.toThrow(
      'outside the file',
    );
    const badCrc = await open(zip([{ name: 'a.txt', data: text, crc: 1234 }]));
    await expect(badCrc.file('a.txt')!.bytes()).rejects.toThrow('CRC-32');
    await expect(open(zip([{ name: 'secret', data: text, flags: 1 }]))).rejects.toThrow(
      'secret is encrypted',
    );
    await expect(
      open(zip([{ name: 'a', data: text }], (eocd) => eocd.writeUInt32LE(0xffffffff, 16))),
    ).rejects.toThrow('ZIP64');
    const corrupt = zip([{ name: 'a.txt', data: text }]);
    corrupt.fill(0xff, 40, 60);
    await expect((await open(corrupt)).file('a.txt')!.bytes()).rejects.toThrow(/a\.txt/);
  });

  it('stops a "zip bomb" at its declared size and keeps to its limits', async () => {
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    // The directory claims 1 KiB; inflating stops as soon as more comes out.
    const bomb = await open(zip([{ name: 'bomb', data: zeros, size: 1024 }]));
    await expect(bomb.file('bomb')!.bytes()).rejects.toThrow('bomb inflates past its size');
    await expect(open(zip([{ name: 'big', data: zeros }]), { entryBytes: 1024 })).rejects.toThrow(
      'big is larger than 1024 bytes',
    );
    const many = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: text }));
    await expect(open(zip(many), { entries: 4 })).rejects.toThrow('more than 4 entries');
    await expect(open(zip(many), { totalBytes: text.length * 4 })).rejects.toThrow('add up to');
  });

  it('answers the JSZip subset original applets use', async () => {
    const loaded = await JSZip.loadAsync(
      new Blob([
        zip([
          { name: 'dir/', data: Buffer.alloc(0), method: 0 },
          { name: 'dir/a.txt', data: text },
        ]),
      ]),
    );
    expect(loaded.files['dir/']!.dir).toBe(true);
    expect(await loaded.files['dir/a.txt']!.async('string')).toBe(text.toString());
    expect(await loaded.files['dir/a.txt']!.async('base64')).toBe(text.toString('base64'));
    const blob = (await loaded.files['dir/a.txt']!.async('blob')) as Blob;
    expect(blob.size).toBe(text.length);
    await expect(loaded.files['dir/a.txt']!.async('nodebuffer')).rejects.toThrow('unsupported');
  });
});
