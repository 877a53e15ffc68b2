// The moderators' desk: the report queue, bans of users and keys, karma changes, the modlog, the
// applets waiting for review and the moderation actions peers sent.
// Every section is on one page (with a jump list), so nothing a moderator needs is hidden; each
// section lives in its own file under moderation/.
import { type ReactNode } from 'react';
import { useSession } from '../api/session';
import { Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { useProfile } from '../api/profile';
import { AppletsSection } from './moderation/AppletsSection';
import { BansSection } from './moderation/BansSection';
import { FederatedActionsSection } from './moderation/FederatedActionsSection';
import { KarmaSection } from './moderation/KarmaSection';
import { ModlogSection } from './moderation/ModlogSection';
import { ReportsSection } from './moderation/ReportsSection';

const SECTIONS: { id: string; title: string; body: () => ReactNode }[] = [
  { id: 'reports', title: 'Reports', body: () => <ReportsSection /> },
  { id: 'bans', title: 'Bans', body: () => <BansSection /> },
  { id: 'karma', title: 'Karma', body: () => <KarmaSection /> },
  { id: 'modlog', title: 'Modlog', body: () => <ModlogSection /> },
  { id: 'applets', title: 'Applets to review', body: () => <AppletsSection /> },
  { id: 'peers', title: "Peers' actions", body: () => <FederatedActionsSection /> },
];

export function ModerationScreen() {
  const session = useSession();
  const fresh = useProfile();
  const user = fresh.data ?? session?.user;
  if (user === undefined) return <Loading />;
  if (!user.is_moderator && !user.is_sysop) {
    return (
      <Panel title="Moderation" headingLevel={1}>
        <p>
          This page is for moderators only. If you think you should be one, ask a sysop of this
          instance.
        </p>
      </Panel>
    );
  }
  return (
    <>
      <h1 className="mb-2 text-xl font-bold uppercase tracking-widest text-amber">Moderation</h1>
      <nav aria-label="Moderation sections" className="mb-4">
        <ul className="flex flex-wrap gap-3 text-sm">
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={`#${s.id}`}>{s.title}</a>
            </li>
          ))}
        </ul>
      </nav>
      {SECTIONS.map((s) => (
        <div key={s.id} id={s.id} className="scroll-mt-4">
          <Panel title={s.title}>{s.body()}</Panel>
        </div>
      ))}
    </>
  );
}
