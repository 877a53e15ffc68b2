// Placeholder until this screen lands.
export function ModerationScreen() {
  return <p>Coming soon.</p>;
}
