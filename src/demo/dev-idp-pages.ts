/**
 * The development IdP's HTML: the sign-in page listing the fixture users, the sign-out step, and plain
 * message pages. Everything interpolated is escaped; the pages need no script except the sign-out step,
 * which submits itself so RP-initiated logout needs no extra click.
 */
import type { DevIdpUser } from './dev-idp-users.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1c1e21; margin: 0; padding: 2rem 1rem; }
  main { max-width: 28rem; margin: 0 auto; background: #fff; border-radius: 8px; padding: 1.5rem 2rem;
         box-shadow: 0 1px 3px rgb(0 0 0 / 0.15); }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; }
  .warning { background: #fff4d6; border-left: 4px solid #b7791f; padding: 0.75rem 1rem; margin: 0 0 1rem; }
  ul { list-style: none; padding: 0; margin: 0 0 1rem; }
  li + li { margin-top: 0.75rem; }
  button { font: inherit; cursor: pointer; border-radius: 6px; }
  .user { display: block; width: 100%; text-align: left; padding: 0.75rem 1rem; background: #fff;
          border: 1px solid #8a8f98; }
  .user:hover, .user:focus-visible { border-color: #1d4ed8; background: #eef3ff; }
  .user:focus-visible, .secondary:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
  .name { display: block; font-weight: 600; }
  .detail { display: block; color: #4a4f57; font-size: 0.9rem; }
  .secondary { background: none; border: 1px solid #8a8f98; padding: 0.4rem 1rem; }
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse development IdP</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

const DEVELOPMENT_ONLY = `<p class="warning" role="note"><strong>Development only.</strong> This identity provider
signs you in as whoever you pick, with no password. Never make it reachable from another machine.</p>`;

export interface SignInPageOptions {
  /** Where the chosen user is posted (`user=<id>`). */
  readonly signInAction: string;
  /** Where "Cancel" posts; the application then receives `error=access_denied`. */
  readonly cancelAction: string;
  /** The client asking, as registered (its client_id). */
  readonly clientName: string;
  readonly users: readonly DevIdpUser[];
}

export function renderSignInPage(options: SignInPageOptions): string {
  const buttons = options.users
    .map(
      (user) => `<li><button class="user" type="submit" name="user" value="${escapeHtml(user.id)}">
<span class="name">${escapeHtml(user.name)}</span>
<span class="detail">${escapeHtml(user.email)}</span>
<span class="detail">Groups: ${escapeHtml(user.groups.join(', ') || 'none')}</span>
</button></li>`,
    )
    .join('\n');
  return page(
    'Sign in',
    `<h1>Sign in</h1>
${DEVELOPMENT_ONLY}
<p><strong>${escapeHtml(options.clientName)}</strong> asks you to sign in. Choose a user:</p>
<form method="post" action="${escapeHtml(options.signInAction)}">
<ul>
${buttons}
</ul>
</form>
<form method="post" action="${escapeHtml(options.cancelAction)}">
<button class="secondary" type="submit">Cancel</button>
</form>`,
  );
}

export function renderMessagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

/**
 * The end-session step. oidc-provider hands over its own form (action and anti-forgery field); adding
 * `logout=yes` and submitting it at once ends the IdP session without the usual "Do you want to sign
 * out?" question. The button is there for readers without script.
 */
export function renderSigningOutPage(providerForm: string): string {
  return page(
    'Signing out',
    `<h1>Signing out…</h1>
${providerForm}
<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<button class="secondary" type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById('op.logoutForm').submit();</script>`,
  );
}
