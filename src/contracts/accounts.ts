/** Who is signed in (GET /api/auth/me). */
export type Role = 'admin' | 'analyst' | 'viewer' | 'ingest';

export interface Principal {
  user: string;
  role: Role;
  /** a person's session, or an API token */
  kind: 'user' | 'token';
}
