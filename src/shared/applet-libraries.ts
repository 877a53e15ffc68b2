// The vetted libraries an applet may ask for in parameters.required_libraries: the instance
// ships them (src/applet-sdk/libraries/) and the runner hands them to the frame before the
// applet's code — nothing is ever loaded from outside. Each name lists the scripts it needs, in
// the order they run.
export const APPLET_LIBRARIES = {
  /** A bounded ZIP reader: globalThis.AxonZip.open(blob) (asset packages). */
  'axon-zip': ['axon-zip'],
  /** JSZip's reading API (JSZip.loadAsync), on top of axon-zip. */
  jszip: ['axon-zip', 'jszip-compat'],
} as const;

export type AppletLibrary = keyof typeof APPLET_LIBRARIES;
export const APPLET_LIBRARY_NAMES = Object.keys(APPLET_LIBRARIES) as AppletLibrary[];
/** The most libraries one applet may list. */
export const MAX_REQUIRED_LIBRARIES = 5;
