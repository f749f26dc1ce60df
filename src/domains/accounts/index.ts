/** The accounts domain: what other folders may use of it (the only way in). */
export {
  SESSION_HOURS,
  SignInGuard,
  TOKEN_ROLES,
  USER_ROLES,
  addUser,
  createToken,
  deleteUser,
  listTokens,
  listUsers,
  openSession,
  principalForSession,
  principalForToken,
  revokeToken,
  signIn,
  signOut,
} from './accounts.ts';
export type { Principal, Role } from './accounts.ts';
export { newSecret, verifyPassword } from './secrets.ts';
export { deleteUserWithPassword, userCount } from './accounts.ts';
