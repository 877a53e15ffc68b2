// The document an applet runs in. The web client loads it into an iframe with
// sandbox="allow-scripts" (an opaque origin: no access to the app's DOM, storage, cookies or
// token), and this route's own CSP says the same again (`sandbox allow-scripts`) and forbids every
// network load: scripts only from blob: URLs the frame makes itself, plus its one bootstrap script
// (by hash); images, media and fonts only from blob:/data:. The bootstrap waits for one message
// from its parent: the verified code (and any vetted libraries), the checksum and the debug flag;
// it sets window.BBS_APPLET_CHECKSUM and window.BBS_DEBUG_MODE and runs the scripts in order.
import { createHash } from 'node:crypto';

/** The message the host sends once the frame has loaded: libraries first, then the code. */
export const FRAME_LOAD_MESSAGE = 'axon-applet-load';

const BOOTSTRAP = `(function () {
  var started = false;
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (started || event.source !== window.parent || !data || data.type !== '${FRAME_LOAD_MESSAGE}') return;
    started = true;
    window.BBS_APPLET_CHECKSUM = String(data.checksum);
    window.BBS_DEBUG_MODE = data.debug === true;
    var scripts = (data.libraries || []).concat([data.code]);
    var next = function (i) {
      if (i >= scripts.length) return;
      var script = document.createElement('script');
      script.src = URL.createObjectURL(new Blob([scripts[i]], { type: 'text/javascript' }));
      script.onload = script.onerror = function () {
        URL.revokeObjectURL(script.src);
        next(i + 1);
      };
      document.body.appendChild(script);
    };
    next(0);
  });
})();`;

export const FRAME_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Applet</title>
<style>html,body{margin:0;background:#000;color:#33ff66;font-family:monospace}</style>
</head>
<body>
<div id="applet-root"></div>
<script>${BOOTSTRAP}</script>
</body>
</html>
`;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/** No network, no outside loads, no forms, no navigation targets beyond the frame itself. */
export const FRAME_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(BOOTSTRAP)}' blob:`,
  // Applets style their own DOM inline; no stylesheet can come from outside.
  "style-src 'unsafe-inline' blob:",
  'img-src blob: data:',
  'media-src blob: data:',
  'font-src blob: data:',
  'connect-src blob: data:',
  'worker-src blob:',
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
  'sandbox allow-scripts',
].join('; ');
