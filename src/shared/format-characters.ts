// Format characters (Unicode category Cf: bidi overrides and isolates, zero-width joiners, soft
// hyphens…) change how the text around them is shown without being seen themselves, so a subject,
// board name or file name holding one can pass for another (`photo‮gpj.exe`). Names refuse them.
export const FORMAT_CHARACTERS = /\p{Cf}/u;

export const FORMAT_CHARACTERS_MESSAGE =
  'must not contain invisible format characters (such as bidi controls or zero-width joiners)';
