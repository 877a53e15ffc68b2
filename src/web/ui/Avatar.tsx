// A person's avatar beside their name: their image, or the first letter of their name in a box
// (decorative either way: the name is always written next to it).
export function Avatar({
  url,
  name,
  size = 24,
}: {
  url: string | null;
  name: string;
  size?: number;
}) {
  const box = { width: size, height: size };
  if (url !== null) {
    return (
      <img
        src={url}
        alt=""
        width={size}
        height={size}
        className="inline-block shrink-0 border border-line align-middle object-cover"
      />
    );
  }
  // The letter is drawn by CSS, not written: the text around it reads as if it were not there.
  return (
    <span
      aria-hidden="true"
      data-initial={[...name][0] ?? '?'}
      style={{ ...box, fontSize: Math.round(size * 0.55), lineHeight: `${size - 2}px` }}
      className="inline-block shrink-0 border border-line text-center align-middle uppercase text-phosphor-dim before:content-[attr(data-initial)]"
    />
  );
}
