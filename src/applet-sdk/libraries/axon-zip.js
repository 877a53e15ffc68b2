// @ts-check
// axon-zip: a small, bounded ZIP reader for applets, one of the vetted libraries the instance hands
// to the frame (parameters.required_libraries: ["axon-zip"]; "jszip" adds a JSZip.loadAsync
// subset on top). It reads the central directory from the end of the Blob, then inflates one entry
// at a time with the browser's own DecompressionStream('deflate-raw'), checking each entry's size
// as it grows (a "zip bomb" stops at its declared size) and its CRC-32. Stored and deflated
// entries only; ZIP64, encrypted and multi-disk archives are refused with a clear error.
// A classic script (no imports or exports): it sets globalThis.AxonZip; the SDK imports it for
// its side effect and the web client hands its text to the frame.
(function () {
  var LIMITS = { entries: 10000, entryBytes: 256 * 1024 * 1024, totalBytes: 512 * 1024 * 1024 };
  var EOCD = 0x06054b50;
  var CENTRAL = 0x02014b50;
  var LOCAL = 0x04034b50;

  /** @param {string} message */
  function fail(message) {
    return new Error('axon-zip: ' + message);
  }

  var table = new Uint32Array(256);
  for (var n = 0; n < 256; n++) {
    var c = n;
    for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  /** @param {number} crc @param {Uint8Array} bytes */
  function crc32(crc, bytes) {
    crc = ~crc >>> 0;
    for (var i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return ~crc >>> 0;
  }

  /** @param {Blob} blob @param {number} start @param {number} end */
  async function bytesOf(blob, start, end) {
    return new Uint8Array(await blob.slice(start, end).arrayBuffer());
  }

  var MIME = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    svg: 'image/svg+xml',
    mp3: 'audio/mpeg',
    ogg: 'audio/ogg',
    wav: 'audio/wav',
    mp4: 'video/mp4',
    webm: 'video/webm',
    json: 'application/json',
    txt: 'text/plain',
    css: 'text/css',
    js: 'text/javascript',
    glb: 'model/gltf-binary',
    gltf: 'model/gltf+json',
    woff2: 'font/woff2',
  };
  /** @param {string} name */
  function typeOf(name) {
    var dot = name.lastIndexOf('.');
    var ext = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
    return Object.prototype.hasOwnProperty.call(MIME, ext)
      ? MIME[/** @type {keyof typeof MIME} */ (ext)]
      : 'application/octet-stream';
  }

  /**
   * @param {Blob} blob
   * @param {{entries?: number, entryBytes?: number, totalBytes?: number}} [limits]
   */
  async function open(blob, limits) {
    if (!(blob instanceof Blob)) blob = new Blob([/** @type {BlobPart} */ (blob)]);
    var max = Object.assign({}, LIMITS, limits || {});
    var tailStart = Math.max(0, blob.size - (22 + 0xffff));
    var tail = await bytesOf(blob, tailStart, blob.size);
    var view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    var at = -1;
    for (var i = tail.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw fail('not a ZIP archive (no end of central directory)');
    if (view.getUint16(at + 4, true) !== 0 || view.getUint16(at + 6, true) !== 0)
      throw fail('multi-disk archives are not supported');
    var count = view.getUint16(at + 10, true);
    var cdSize = view.getUint32(at + 12, true);
    var cdOffset = view.getUint32(at + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
      throw fail('ZIP64 archives are not supported');
    if (count > max.entries) throw fail('more than ' + max.entries + ' entries');
    if (cdOffset + cdSize > blob.size) throw fail('the central directory lies outside the file');
    var cd = await bytesOf(blob, cdOffset, cdOffset + cdSize);
    var cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    var decoder = new TextDecoder();
    /** @type {Record<string, Entry>} */
    var files = Object.create(null);
    var list = [];
    var total = 0;
    var p = 0;
    for (var e = 0; e < count; e++) {
      if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL)
        throw fail('a damaged central directory');
      var flags = cv.getUint16(p + 8, true);
      var method = cv.getUint16(p + 10, true);
      var crc = cv.getUint32(p + 16, true);
      var compressed = cv.getUint32(p + 20, true);
      var size = cv.getUint32(p + 24, true);
      var nameLength = cv.getUint16(p + 28, true);
      var extraLength = cv.getUint16(p + 30, true);
      var commentLength = cv.getUint16(p + 32, true);
      var offset = cv.getUint32(p + 42, true);
      if (p + 46 + nameLength > cd.length) throw fail('a damaged central directory');
      var name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength));
      p += 46 + nameLength + extraLength + commentLength;
      if (flags & 1) throw fail(name + ' is encrypted');
      if (method !== 0 && method !== 8) throw fail(name + ' uses an unsupported compression');
      if (size > max.entryBytes) throw fail(name + ' is larger than ' + max.entryBytes + ' bytes');
      total += size;
      if (total > max.totalBytes)
        throw fail('the files add up to more than ' + max.totalBytes + ' bytes');
      var entry = new Entry(blob, name, method, crc, compressed, size, offset);
      files[name] = entry;
      list.push(entry);
    }
    return {
      /** Every entry, in the archive's order. */
      entries: list,
      files: files,
      /** @param {string} name */
      file: function (name) {
        return Object.prototype.hasOwnProperty.call(files, name) ? files[name] : null;
      },
    };
  }

  /**
   * @constructor
   * @param {Blob} blob @param {string} name @param {number} method @param {number} crc
   * @param {number} compressedSize @param {number} size @param {number} offset
   */
  function Entry(blob, name, method, crc, compressedSize, size, offset) {
    this.name = name;
    this.dir = name.endsWith('/');
    this.size = size;
    this.compressedSize = compressedSize;
    this._blob = blob;
    this._method = method;
    this._crc = crc;
    this._offset = offset;
  }

  /** The entry's bytes, checked against its size and CRC-32. */
  Entry.prototype.bytes = async function () {
    var header = await bytesOf(this._blob, this._offset, this._offset + 30);
    var hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (header.length < 30 || hv.getUint32(0, true) !== LOCAL)
      throw fail(this.name + ': a damaged local header');
    var start = this._offset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    var raw = this._blob.slice(start, start + this.compressedSize);
    if (raw.size !== this.compressedSize) throw fail(this.name + ' is cut short');
    var out = new Uint8Array(this.size);
    var filled = 0;
    var crc = 0;
    if (this._method === 0) {
      out = new Uint8Array(await raw.arrayBuffer());
      if (out.length !== this.size) throw fail(this.name + ' is not the size it says');
      crc = crc32(0, out);
      filled = out.length;
    } else {
      var reader = raw.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
      try {
        for (;;) {
          var step = await reader.read();
          if (step.done) break;
          var chunk = step.value;
          if (filled + chunk.length > this.size) throw fail(this.name + ' inflates past its size');
          out.set(chunk, filled);
          filled += chunk.length;
          crc = crc32(crc, chunk);
        }
      } catch (error) {
        await reader.cancel().catch(function () {});
        if (error instanceof Error && error.message.indexOf('axon-zip') === 0) throw error;
        throw fail(this.name + ' does not inflate: ' + String(error));
      }
    }
    if (filled !== this.size) throw fail(this.name + ' is not the size it says');
    if (crc !== this._crc) throw fail(this.name + ' fails its CRC-32 check');
    return out;
  };
  /** @param {string} [type] */
  Entry.prototype.blob = async function (type) {
    return new Blob([/** @type {BlobPart} */ (await this.bytes())], {
      type: type || typeOf(this.name),
    });
  };
  Entry.prototype.text = async function () {
    return new TextDecoder().decode(await this.bytes());
  };

  /** @type {any} */ (globalThis).AxonZip = { open: open, typeOf: typeOf };
})();
