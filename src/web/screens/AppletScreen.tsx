// Runs one applet. The code is fetched, its SHA-256 compared with the manifest's content_hash, and
// only then handed to the sandboxed frame (/applet-frame/, sandbox="allow-scripts": an opaque
// origin with no network); a mismatch is refused and nothing runs. The bridge answers the frame.
// Opened on an attachment ("Open with …", ?attachment=<hash>&filename=&type=&size=), it runs only
// for an applet that handles that media type, and only once the user agreed to hand it the file
// (a link can be made by anyone; the applet could share what it reads on its own event bus).
import { useEffect, useRef, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { fetchAppletCode, useApplet } from '../api/applets';
import type { Applet } from '../api/types';
import { serveBridge, type AttachmentContext } from '../applets/bridge';
import { librariesFor } from '../applets/libraries';
import { opens } from '../applets/mime';
import { sha256Hex } from '../applets/verify';
import { formatBytes } from '../api/transfers';
import { Button } from '../ui/controls';
import { ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';

/** The message the frame's bootstrap waits for (src/server/modules/applets/frame.ts). */
const FRAME_LOAD_MESSAGE = 'axon-applet-load';

type Verified =
  | { kind: 'checking' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'refused'; expected: string; calculated: string }
  | { kind: 'ready'; code: ArrayBuffer; checksum: string };

function useVerifiedCode(applet: Applet | undefined): Verified {
  const [verified, setVerified] = useState<Verified>({ kind: 'checking' });
  useEffect(() => {
    if (applet === undefined) return;
    const expected = applet.code_manifest?.content_hash;
    if (expected === undefined) {
      setVerified({ kind: 'failed', error: new Error('This applet has no code.') });
      return;
    }
    let live = true;
    void (async () => {
      try {
        const code = await fetchAppletCode(applet.id);
        const calculated = await sha256Hex(code);
        if (!live) return;
        setVerified(
          calculated === expected
            ? { kind: 'ready', code, checksum: calculated }
            : { kind: 'refused', expected, calculated },
        );
      } catch (error) {
        if (live) setVerified({ kind: 'failed', error });
      }
    })();
    return () => {
      live = false;
    };
  }, [applet]);
  return verified;
}

function AppletFrame({
  applet,
  code,
  checksum,
  libraries,
  attachment,
}: {
  applet: Applet;
  code: ArrayBuffer;
  checksum: string;
  /** The vetted libraries it asked for, run before its code. */
  libraries: Uint8Array[];
  attachment: AttachmentContext | null;
}) {
  const frame = useRef<HTMLIFrameElement>(null);
  const loads = useRef(0);
  const [stopped, setStopped] = useState(false);
  useEffect(() => {
    if (frame.current === null) return;
    return serveBridge(frame.current, { applet, attachment });
  }, [applet, attachment]);
  const onLoad = () => {
    loads.current++;
    const target = frame.current?.contentWindow;
    // A second load means the applet navigated its frame away: it is stopped, never re-fed.
    if (loads.current > 1 || target === null || target === undefined) {
      setStopped(true);
      return;
    }
    target.postMessage(
      {
        type: FRAME_LOAD_MESSAGE,
        code: new Uint8Array(code),
        checksum,
        debug: applet.is_debug_mode,
        libraries,
      },
      '*',
    );
  };
  if (stopped) return <p role="alert">The applet left its frame and was stopped.</p>;
  return (
    <iframe
      ref={frame}
      title={applet.name}
      src="/applet-frame/"
      sandbox="allow-scripts"
      onLoad={onLoad}
      className="h-[70vh] w-full border border-line bg-black"
    />
  );
}

export function AppletScreen() {
  const { appletId = '' } = useParams();
  const [search] = useSearchParams();
  const applet = useApplet(appletId);
  const verified = useVerifiedCode(applet.data);
  const hash = search.get('attachment');
  const attachment: AttachmentContext | null =
    hash === null
      ? null
      : {
          hash,
          filename: search.get('filename') ?? hash,
          mime_type: search.get('type') ?? 'application/octet-stream',
          size: Math.max(0, Number(search.get('size')) || 0),
        };
  const [context] = useState(attachment);
  const [consented, setConsented] = useState(false);
  const libraries = applet.data && librariesFor(applet.data.parameters.required_libraries);
  const handles =
    applet.data !== undefined && context !== null && opens(applet.data, context.mime_type);
  return (
    <Panel title={applet.data?.name ?? 'Applet'} headingLevel={1}>
      <ErrorNotice error={applet.error} />
      {applet.data !== undefined && verified.kind === 'checking' && (
        <Loading what="Checking the applet's code" />
      )}
      {verified.kind === 'failed' && <ErrorNotice error={verified.error} />}
      {verified.kind === 'refused' && (
        <div role="alert" className="border border-red-500 p-3">
          <p className="font-bold">Refused: the applet's code failed its integrity check.</p>
          <p>Nothing was run. The code received is not the code that was published.</p>
          <p className="break-all text-sm">Expected SHA-256: {verified.expected}</p>
          <p className="break-all text-sm">Received SHA-256: {verified.calculated}</p>
        </div>
      )}
      {libraries?.ok === false && (
        <p role="alert">
          This applet asks for libraries this instance does not ship ({libraries.unknown.join(', ')}
          ); nothing was run.
        </p>
      )}
      {applet.data !== undefined && context !== null && !handles && (
        <p role="alert">
          {applet.data.name} does not open {context.mime_type} files; nothing was run.
        </p>
      )}
      {applet.data !== undefined && context !== null && handles && !consented && (
        <div className="border border-line p-3">
          <p>
            Open <strong>{context.filename}</strong> ({context.mime_type},{' '}
            {formatBytes(context.size)}) with {applet.data.name}?
          </p>
          <p className="text-sm text-phosphor-dim">
            The applet can read this file, and could share it on its own event bus.
          </p>
          <Button onClick={() => setConsented(true)}>Open</Button>
        </div>
      )}
      {applet.data !== undefined &&
        verified.kind === 'ready' &&
        libraries?.ok === true &&
        (context === null || consented) && (
          <AppletFrame
            applet={applet.data}
            code={verified.code}
            checksum={verified.checksum}
            libraries={libraries.scripts}
            attachment={context}
          />
        )}
    </Panel>
  );
}
