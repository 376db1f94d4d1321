/**
 * The demo's configuration, written in the same YAML a user would write and loaded through the same
 * parser, so the demo can never drift from what a real config accepts.
 */
export interface DemoSetup {
  /** The sample API's URL. */
  readonly sampleApi: URL;
  /** Where Gatehouse listens, `127.0.0.1:<port>`; the browser reaches it as `localhost:<port>`. */
  readonly address: string;
  /** The bundled development IdP's issuer. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Base64 of 32 random bytes each, made for this run: sessions end when the demo stops. */
  readonly sharedSecret: string;
  readonly cookieSecret: string;
  /** Where sign-out ends: the public page. */
  readonly signoutRedirectUrl: string;
}

export function demoConfigYaml(setup: DemoSetup): string {
  const upstream = setup.sampleApi.origin;
  return `# Gatehouse demo: plain HTTP on loopback, in front of the bundled sample API, signing users in with
# the bundled development IdP (alice@example.com or bob@contractor.example; no passwords).
insecure_server: true
address: ${setup.address}
idp_provider: oidc
idp_provider_url: ${setup.issuer}
idp_client_id: ${setup.clientId}
idp_client_secret: ${setup.clientSecret}
shared_secret: ${setup.sharedSecret}
cookie_secret: ${setup.cookieSecret}
# Plain http on loopback: browsers other than Chromium and Firefox drop Secure cookies there.
cookie_secure: false
signout_redirect_url: ${setup.signoutRedirectUrl}
routes:
  # The single-page app's page is public; the API it calls (/api below) needs sign-in.
  - from: http://localhost
    path: /app/
    to: ${upstream}
    allow_public_unauthenticated_access: true
  # Anyone may read this one.
  - from: http://localhost
    prefix: /public
    prefix_rewrite: /
    to: ${upstream}
    allow_public_unauthenticated_access: true
  # Anyone signed in: a browser is sent to sign in, a script gets 401 JSON with login_url.
  - from: http://localhost
    prefix: /api
    prefix_rewrite: /
    to: ${upstream}
    allow_any_authenticated_user: true
    set_response_headers:
      X-Served-By: gatehouse-demo
  # Only alice: bob signs in and gets 403.
  - from: http://localhost
    prefix: /admin
    prefix_rewrite: /
    to: ${upstream}
    allowed_users: [alice@example.com]
  # Everyone at example.com.
  - from: http://localhost
    to: ${upstream}
    allowed_domains: [example.com]
`;
}
