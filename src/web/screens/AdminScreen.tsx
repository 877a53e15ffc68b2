// Placeholder until this screen lands.
export function AdminScreen() {
  return <p>Coming soon.</p>;
}
