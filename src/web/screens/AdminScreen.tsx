// The sysop's console: this instance's identity (to hand to peers), the peers it trusts, the boards
// and who they are for, and every account with the roles and rights a sysop grants; each section lives in its own
// file under admin/.
import { useSession } from '../api/session';
import { Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { useProfile } from '../api/profile';
import { BoardsSection } from './admin/BoardsSection';
import { FederationSection } from './admin/FederationSection';
import { IdentitySection } from './admin/IdentitySection';
import { UsersSection } from './admin/UsersSection';

export function AdminScreen() {
  const session = useSession();
  const fresh = useProfile();
  const user = fresh.data ?? session?.user;
  if (user === undefined) return <Loading />;
  if (!user.is_sysop) {
    return (
      <Panel title="Administration" headingLevel={1}>
        <p>This page is for sysops only.</p>
      </Panel>
    );
  }
  return (
    <>
      <h1 className="mb-4 text-xl font-bold uppercase tracking-widest text-amber">
        Administration
      </h1>
      <Panel title="Instance identity">
        <IdentitySection />
      </Panel>
      <Panel title="Federation">
        <FederationSection />
      </Panel>
      <Panel title="Boards">
        <BoardsSection />
      </Panel>
      <Panel title="Users">
        <UsersSection />
      </Panel>
    </>
  );
}
