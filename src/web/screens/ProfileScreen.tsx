// Placeholder until this screen lands.
export function ProfileScreen() {
  return <p>Coming soon.</p>;
}
