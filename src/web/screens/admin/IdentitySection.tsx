// This instance's identity: its key and fingerprint, to hand to the sysops of peers.
import { useRef, useState } from 'react';
import { Button } from '../../ui/controls';
import { ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { Fingerprint } from '../../ui/text';
import { useIdentity } from '../../api/identity';

export function IdentitySection() {
  const identity = useIdentity();
  const keyBlock = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (pubkey: string) => {
    try {
      await navigator.clipboard.writeText(pubkey);
      setCopied('Public key copied.');
    } catch {
      // No clipboard access (an insecure origin, a refusal): select it for the reader to copy.
      const range = document.createRange();
      if (keyBlock.current !== null) range.selectNodeContents(keyBlock.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      setCopied('Could not reach the clipboard; the key is selected, press Ctrl+C to copy it.');
    }
  };
  if (identity.isPending) return <Loading what="Loading the instance identity" />;
  if (identity.isError) return <ErrorNotice error={identity.error} />;
  const { nickname, fingerprint, base_url, pubkey } = identity.data;
  return (
    <>
      <dl className="grid grid-cols-1 gap-x-4 gap-y-1 sm:grid-cols-[max-content_1fr]">
        <dt className="text-sm uppercase tracking-wide text-amber">Nickname</dt>
        <dd className="mb-2 sm:mb-0">{nickname}</dd>
        <dt className="text-sm uppercase tracking-wide text-amber">Fingerprint</dt>
        <dd className="mb-2 min-w-0 sm:mb-0">
          <Fingerprint value={fingerprint} />
        </dd>
        <dt className="text-sm uppercase tracking-wide text-amber">Base URL</dt>
        <dd className="mb-2 break-all sm:mb-0">
          {base_url ?? <span className="text-phosphor-dim">not set (AXON_BASE_URL)</span>}
        </dd>
      </dl>
      <div className="mt-3 flex flex-wrap items-center justify-between gap-2">
        <h3 className="text-sm uppercase tracking-wide text-amber" id="instance-pubkey">
          Public key
        </h3>
        <Button variant="plain" aria-label="Copy public key" onClick={() => void copy(pubkey)}>
          Copy
        </Button>
      </div>
      <pre
        ref={keyBlock}
        aria-labelledby="instance-pubkey"
        tabIndex={0}
        className="mt-2 overflow-x-auto border border-line bg-panel p-2 text-xs"
      >
        {pubkey}
      </pre>
      {copied !== null && <Notice>{copied}</Notice>}
    </>
  );
}
