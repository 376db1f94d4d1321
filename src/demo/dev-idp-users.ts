/**
 * The people the development IdP can sign in as. Two on purpose: one in the `admins` group and one outside
 * the example domain, so a newcomer can see `allowed_domains` and group policies say yes to one and no to
 * the other.
 */
export interface DevIdpUser {
  /** The subject (`sub`), and the value the sign-in form posts as `user`. */
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string;
  readonly groups: readonly string[];
}

export const devIdpUsers = [
  {
    id: 'alice',
    email: 'alice@example.com',
    emailVerified: true,
    name: 'Alice Example',
    groups: ['admins', 'staff'],
  },
  {
    id: 'bob',
    email: 'bob@contractor.example',
    emailVerified: true,
    name: 'Bob Contractor',
    groups: ['contractors'],
  },
] as const satisfies readonly DevIdpUser[];

export type DevIdpUserId = (typeof devIdpUsers)[number]['id'];

export function findDevIdpUser(id: string): DevIdpUser | undefined {
  return devIdpUsers.find((user) => user.id === id);
}
