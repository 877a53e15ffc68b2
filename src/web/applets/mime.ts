// Which applets open an attachment: those whose handles_mime_types name its media type, exactly
// or as `type/*` (parameters such as `; charset=utf-8` and letter case aside).
import type { Applet } from '../api/types';

const bare = (mime: string) => mime.split(';')[0]!.trim().toLowerCase();

export function opens(applet: Pick<Applet, 'handles_mime_types'>, mime: string): boolean {
  const type = bare(mime);
  const major = type.split('/')[0];
  return applet.handles_mime_types.some((handled) => {
    const h = bare(handled);
    return h === type || h === `${major}/*`;
  });
}
