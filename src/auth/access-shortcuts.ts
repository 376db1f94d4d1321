/**
 * Pomerium's route access shortcuts as one decision, compiled at config load: `allow_public_unauthenticated_
 * access`, `allow_any_authenticated_user`, `allowed_users` and `allowed_domains`. The full policy language
 * (DESIGN 6) comes later; these follow the rules it states for emails: exactly one `@`, domain compared
 * exactly.
 */
import { domainOf, foldAsciiCase } from '../shared/email-domain.js';

/** The route keys, as the config spells them; an absent key is unset. */
export interface AccessShortcuts {
  readonly allow_public_unauthenticated_access?: boolean | undefined;
  readonly allow_any_authenticated_user?: boolean | undefined;
  /** Emails (compared case-insensitively) or user ids (the IdP's `sub`, compared exactly). */
  readonly allowed_users?: readonly string[] | undefined;
  /** Email domains; a sub-domain is not the domain. */
  readonly allowed_domains?: readonly string[] | undefined;
}

/** Who is asking; `undefined` when nobody is signed in. */
export interface AccessSubject {
  readonly userId: string;
  readonly email?: string | undefined;
}

/** `sign-in`: nobody is signed in, and signing in could lead to `allow`. */
export type AccessDecision = 'allow' | 'deny' | 'sign-in';

export type AccessCheck = (subject: AccessSubject | undefined) => AccessDecision;

export function compileAccessShortcuts(shortcuts: AccessShortcuts): AccessCheck {
  if (shortcuts.allow_public_unauthenticated_access === true) return () => 'allow';

  const anyAuthenticated = shortcuts.allow_any_authenticated_user === true;
  // An empty entry (an unset environment variable, say) names nobody, so it cannot match an empty email.
  const users = (shortcuts.allowed_users ?? []).filter((user) => user !== '');
  const userIds = new Set(users);
  const emails = new Set(users.map(foldAsciiCase));
  const domains = new Set((shortcuts.allowed_domains ?? []).filter((d) => d !== '').map(foldAsciiCase));

  // Pomerium, too, denies every user on a route that grants access to nobody; sending an anonymous visitor
  // through sign-in first would only end at the same 403.
  if (!anyAuthenticated && users.length === 0 && domains.size === 0) return () => 'deny';

  return (subject) => {
    if (subject === undefined) return 'sign-in';
    if (anyAuthenticated || userIds.has(subject.userId)) return 'allow';
    if (subject.email === undefined) return 'deny';
    if (emails.has(foldAsciiCase(subject.email))) return 'allow';
    const domain = domainOf(subject.email);
    return domain !== undefined && domains.has(domain) ? 'allow' : 'deny';
  };
}
