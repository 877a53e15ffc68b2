// The approved applets, each opened in the sandboxed runner.
import { Link } from 'react-router';
import { useApplets } from '../api/applets';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';

export function AppletsScreen() {
  const applets = useApplets();
  return (
    <Panel title="Applets" headingLevel={1}>
      {applets.isPending && <Loading what="Loading applets" />}
      <ErrorNotice error={applets.error} />
      {applets.data?.items.length === 0 && <Empty>No applets yet.</Empty>}
      <ul className="divide-y divide-line">
        {applets.data?.items.map((applet) => (
          <li key={applet.id} className="py-2">
            <Link to={`/applets/${applet.id}`} className="text-lg font-bold">
              {applet.name}
            </Link>
            {applet.description !== '' && (
              <p className="text-sm text-phosphor-dim">{applet.description}</p>
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}
