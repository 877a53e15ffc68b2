// Mentions: `@name` in a post's body names a local user by username. An address (`a@b`) or a
// user of another instance (`@name@instance`) is not a mention here.

/** Names one post may mention: more are not looked up (a list of every user is no mention). */
export const MENTIONS_MAX = 20;

// A username (accounts/schema.ts) after an @ that does not follow a letter, digit or @.
const MENTION = /(?<![A-Za-z0-9_.@-])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,40})(?![A-Za-z0-9_@])/g;

/** The lowercased usernames a body mentions, each once, at most MENTIONS_MAX. */
export function mentionedNames(body: string): string[] {
  const names = new Set<string>();
  for (const match of body.matchAll(MENTION)) {
    // A sentence's full stop or dash after the name is not part of it.
    const name = match[1]!.replace(/[.-]+$/, '').toLowerCase();
    if (name.length >= 3 && name.length <= 32) names.add(name);
    if (names.size >= MENTIONS_MAX) break;
  }
  return [...names];
}
