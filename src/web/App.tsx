// The frame around every screen (header, navigation, skip link) and the routes.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, type ReactNode } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import { WEB_CLIENT_ROUTES, type WebClientRoute } from '../shared/web-routes';
import { logOut as endSession } from './api/accounts';
import { SESSION_ENDED } from './api/client';
import { useLiveFeed, useLiveState } from './api/notifications';
import { useUnreadCount } from './api/private-messages';
import { sessionStore, useSession } from './api/session';
import { AdminScreen } from './screens/AdminScreen';
import { AppletScreen } from './screens/AppletScreen';
import { AppletsScreen } from './screens/AppletsScreen';
import { BoardScreen } from './screens/BoardScreen';
import { BoardsScreen } from './screens/BoardsScreen';
import { ChatScreen } from './screens/ChatScreen';
import { ComposeScreen } from './screens/ComposeScreen';
import { LoginScreen } from './screens/LoginScreen';
import { MessageScreen } from './screens/MessageScreen';
import { ModerationScreen } from './screens/ModerationScreen';
import { NotificationsScreen } from './screens/NotificationsScreen';
import { PrivateMessageScreen } from './screens/PrivateMessageScreen';
import { PrivateMessagesScreen } from './screens/PrivateMessagesScreen';
import { ProfileScreen } from './screens/ProfileScreen';
import { RecoverScreen } from './screens/RecoverScreen';
import { RemoteAuthorScreen } from './screens/RemoteAuthorScreen';
import { RegisterScreen } from './screens/RegisterScreen';
import { SearchScreen } from './screens/SearchScreen';
import { ConversationScreen } from './screens/ConversationScreen';
import { PersonScreen } from './screens/PersonScreen';
import { SendPrivateMessageScreen } from './screens/SendPrivateMessageScreen';
import { Button } from './ui/controls';
import { useIdentity } from './api/identity';

/** The screen of each route in the shared list; a route without a screen fails the typecheck. */
const SCREENS: Record<WebClientRoute, { screen: ReactNode; guarded: boolean }> = {
  login: { screen: <LoginScreen />, guarded: false },
  register: { screen: <RegisterScreen />, guarded: false },
  recover: { screen: <RecoverScreen />, guarded: false },
  boards: { screen: <BoardsScreen />, guarded: false },
  board: { screen: <BoardScreen />, guarded: false },
  compose: { screen: <ComposeScreen />, guarded: true },
  message: { screen: <MessageScreen />, guarded: false },
  remoteAuthor: { screen: <RemoteAuthorScreen />, guarded: false },
  person: { screen: <PersonScreen />, guarded: false },
  search: { screen: <SearchScreen />, guarded: false },
  privateMessages: { screen: <PrivateMessagesScreen />, guarded: true },
  sendPrivateMessage: { screen: <SendPrivateMessageScreen />, guarded: true },
  privateMessage: { screen: <PrivateMessageScreen />, guarded: true },
  conversation: { screen: <ConversationScreen />, guarded: true },
  chat: { screen: <ChatScreen />, guarded: true },
  applets: { screen: <AppletsScreen />, guarded: true },
  applet: { screen: <AppletScreen />, guarded: true },
  profile: { screen: <ProfileScreen />, guarded: true },
  moderation: { screen: <ModerationScreen />, guarded: true },
  admin: { screen: <AdminScreen />, guarded: true },
  notifications: { screen: <NotificationsScreen />, guarded: true },
};
import { forgetPrivateDrafts } from './ui/draft';

/** Where login sends people back to, and why they were sent to it. */
export interface LoginState {
  from?: string;
}

function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session === null) {
    const state: LoginState = { from: location.pathname + location.search };
    return <Navigate to="/login" replace state={state} />;
  }
  return children;
}

function NavItem({ to, children }: { to: string; children: ReactNode }) {
  return (
    <NavLink
      to={to}
      className={({ isActive }) =>
        `px-2 py-1 no-underline ${isActive ? 'bg-phosphor text-black' : 'text-phosphor hover:text-amber'}`
      }
    >
      {children}
    </NavLink>
  );
}

function UnreadCount() {
  const count = useUnreadCount();
  return count > 0 ? <span aria-label={`${count} unread`}> ({count})</span> : null;
}

/** Unread notifications, from the live feed: it changes the moment one arrives or is read. */
function UnreadNotifications() {
  const count = useLiveState()?.unread ?? 0;
  return count > 0 ? <span aria-label={`${count} unread`}> ({count})</span> : null;
}

function Header() {
  const session = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const identity = useIdentity();
  const logOut = async () => {
    try {
      await endSession();
    } catch {
      // The session may already be over; signing out here is what matters.
    }
    sessionStore.signOut();
    forgetPrivateDrafts();
    queryClient.clear();
    navigate('/login');
  };
  const user = session?.user;
  return (
    <header className="border-b border-line">
      <div className="mx-auto flex max-w-5xl flex-wrap items-baseline justify-between gap-2 px-3 py-2">
        <p className="text-xl font-bold tracking-widest text-amber">
          <NavLink to="/boards" className="text-amber no-underline">
            ░▒▓ AXON BBS ▓▒░
          </NavLink>
          {identity.data !== undefined && (
            <span className="ml-2 text-sm font-normal text-phosphor-dim">
              {identity.data.nickname}
            </span>
          )}
        </p>
        {user !== undefined ? (
          <p className="text-sm">
            Signed in as <strong>{user.nickname}</strong>{' '}
            <Button variant="plain" className="ml-2 text-xs" onClick={() => void logOut()}>
              Log out
            </Button>
          </p>
        ) : (
          <p className="text-sm">
            <NavLink to="/login">Log in</NavLink> · <NavLink to="/register">Register</NavLink>
          </p>
        )}
      </div>
      <nav aria-label="Main" className="mx-auto max-w-5xl px-3 pb-2">
        <ul className="flex flex-wrap gap-1 text-sm uppercase">
          <li>
            <NavItem to="/boards">Boards</NavItem>
          </li>
          <li>
            <NavItem to="/search">Search</NavItem>
          </li>
          {user !== undefined && (
            <>
              <li>
                <NavItem to="/chat">Chat</NavItem>
              </li>
              <li>
                <NavItem to="/applets">Applets</NavItem>
              </li>
              <li>
                <NavItem to="/pm">
                  Messages
                  <UnreadCount />
                </NavItem>
              </li>
              <li>
                <NavItem to="/notifications">
                  Notifications
                  <UnreadNotifications />
                </NavItem>
              </li>
              <li>
                <NavItem to="/profile">Profile</NavItem>
              </li>
              {(user.is_moderator || user.is_sysop) && (
                <li>
                  <NavItem to="/moderation">Moderation</NavItem>
                </li>
              )}
              {user.is_sysop && (
                <li>
                  <NavItem to="/admin">Admin</NavItem>
                </li>
              )}
            </>
          )}
        </ul>
      </nav>
    </header>
  );
}

/** A session the server ended (expiry, ban, logout elsewhere): back to login, keeping the way back. */
function useSessionEndedRedirect() {
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  const here = location.pathname + location.search;
  useEffect(() => {
    const onEnded = () => {
      queryClient.clear();
      if (!here.startsWith('/login')) {
        const state: LoginState = { from: here };
        navigate('/login', { state });
      }
    };
    window.addEventListener(SESSION_ENDED, onEnded);
    return () => window.removeEventListener(SESSION_ENDED, onEnded);
  }, [navigate, here, queryClient]);
}

export function App() {
  useSessionEndedRedirect();
  useLiveFeed();
  return (
    <>
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:bg-black"
      >
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1} className="mx-auto max-w-5xl px-3 py-4">
        <Routes>
          <Route path="/" element={<Navigate to="/boards" replace />} />
          {(Object.keys(WEB_CLIENT_ROUTES) as WebClientRoute[]).map((name) => {
            const { screen, guarded } = SCREENS[name];
            return (
              <Route
                key={name}
                path={WEB_CLIENT_ROUTES[name]}
                element={guarded ? <RequireSession>{screen}</RequireSession> : screen}
              />
            );
          })}
          <Route
            path="*"
            element={
              <p role="alert">
                There is no page here. <NavLink to="/boards">Go to the boards.</NavLink>
              </p>
            }
          />
        </Routes>
      </main>
    </>
  );
}
