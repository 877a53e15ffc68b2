// @ts-check
// The "jszip" vetted library: the part of JSZip's reading API that applets written for the
// original system use — JSZip.loadAsync(data) (or new JSZip().loadAsync(data)), zip.files[name]
// with .name and .dir, zip.file(name), and entry.async('blob' | 'arraybuffer' | 'uint8array' |
// 'string' | 'text' | 'base64') — on top of axon-zip (handed to the frame first). Writing ZIPs is
// not there. A classic script: it sets globalThis.JSZip.
(function () {
  /** @type {any} */
  var g = globalThis;
  /** @param {any} entry */
  function wrap(entry) {
    return {
      name: entry.name,
      dir: entry.dir,
      /** @param {string} type */
      async: async function (type) {
        switch (type) {
          case 'blob':
            return entry.blob();
          case 'uint8array':
            return entry.bytes();
          case 'arraybuffer':
            return (await entry.bytes()).buffer;
          case 'string':
          case 'text':
            return entry.text();
          case 'base64': {
            var bytes = await entry.bytes();
            var text = '';
            for (var i = 0; i < bytes.length; i += 0x8000)
              text += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 0x8000)));
            return btoa(text);
          }
          default:
            throw new Error('jszip (axon-zip): unsupported type ' + String(type));
        }
      },
    };
  }
  /** @param {Blob | ArrayBuffer | Uint8Array} data */
  async function loadAsync(data) {
    var zip = await g.AxonZip.open(data instanceof Blob ? data : new Blob([data]));
    /** @type {Record<string, any>} */
    var files = Object.create(null);
    for (var entry of zip.entries) files[entry.name] = wrap(entry);
    return {
      files: files,
      /** @param {string} name */
      file: function (name) {
        return Object.prototype.hasOwnProperty.call(files, name) ? files[name] : null;
      },
    };
  }
  function JSZip() {}
  JSZip.loadAsync = loadAsync;
  JSZip.prototype.loadAsync = loadAsync;
  g.JSZip = JSZip;
})();
