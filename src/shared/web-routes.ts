// The web client's routes, in one list: the client's router is built from it (one screen per
// entry, checked by the typecheck) and the server answers a deep link to any of their top-level
// sections with the client's page; every other path is a 404: the client's page (which says there
// is no page here) when a browser asks for HTML outside /api and /lite, else the JSON envelope.
export const WEB_CLIENT_ROUTES = {
  login: '/login',
  register: '/register',
  recover: '/recover',
  boards: '/boards',
  board: '/boards/:boardId',
  compose: '/boards/:boardId/new',
  message: '/messages/:messageId',
  remoteAuthor: '/authors/:fingerprint',
  person: '/people/:fingerprint',
  search: '/search',
  privateMessages: '/pm',
  sendPrivateMessage: '/pm/new',
  privateMessage: '/pm/:id',
  conversation: '/pm/with/:fingerprint',
  chat: '/chat',
  applets: '/applets',
  applet: '/applets/:appletId',
  profile: '/profile',
  moderation: '/moderation',
  admin: '/admin',
  notifications: '/notifications',
} as const;

export type WebClientRoute = keyof typeof WEB_CLIENT_ROUTES;

/** The first path segment of every route: `/<section>` and `/<section>/…` serve the client. */
export const WEB_CLIENT_SECTIONS: readonly string[] = [
  ...new Set(Object.values(WEB_CLIENT_ROUTES).map((path) => path.split('/')[1]!)),
];
