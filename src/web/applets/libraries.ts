// The vetted libraries the runner hands to an applet's frame before its code, by the names an
// applet lists in parameters.required_libraries (src/shared/applet-libraries.ts). Their text is
// part of the web client's bundle: nothing is fetched, in the frame or for it.
import { APPLET_LIBRARIES, type AppletLibrary } from '../../shared/applet-libraries';
import axonZip from '../../applet-sdk/libraries/axon-zip.js?raw';
import jszipCompat from '../../applet-sdk/libraries/jszip-compat.js?raw';

const SCRIPTS: Record<(typeof APPLET_LIBRARIES)[AppletLibrary][number], string> = {
  'axon-zip': axonZip,
  'jszip-compat': jszipCompat,
};

/**
 * The scripts for `required` (each once, in order), or the names this instance does not ship —
 * an applet asking for one of those is not run.
 */
export function librariesFor(
  required: unknown,
): { ok: true; scripts: Uint8Array[] } | { ok: false; unknown: string[] } {
  const names = Array.isArray(required) ? required.map(String) : [];
  const unknown = names.filter((n) => !Object.hasOwn(APPLET_LIBRARIES, n));
  if (unknown.length > 0) return { ok: false, unknown };
  const parts = new Set(names.flatMap((n) => APPLET_LIBRARIES[n as AppletLibrary]));
  const encoder = new TextEncoder();
  return { ok: true, scripts: [...parts].map((p) => encoder.encode(SCRIPTS[p])) };
}
