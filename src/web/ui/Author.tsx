// Who wrote something: nickname and the start of their key's fingerprint (nicknames are not unique).
export function Author({ nickname, fingerprint }: { nickname: string; fingerprint: string }) {
  return (
    <span>
      <strong className="text-phosphor">{nickname}</strong>{' '}
      <span className="text-xs text-phosphor-dim" title={`key ${fingerprint}`}>
        [{fingerprint.slice(0, 8)}]
      </span>
    </span>
  );
}
