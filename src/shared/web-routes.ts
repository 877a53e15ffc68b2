// The web client's top-level paths. The server answers a deep link to any of them with the
// client's page (the client's router takes it from there); every other path stays an API 404.
export const WEB_CLIENT_SECTIONS = [
  'login',
  'register',
  'recover',
  'boards',
  'messages',
  'search',
  'pm',
  'chat',
  'profile',
  'moderation',
  'admin',
] as const;
