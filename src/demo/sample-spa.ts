/**
 * The demo's single-page app: one HTML page with a script, served by the sample API at `/app/` and routed
 * publicly by the demo config, calling the protected `/api/` on the same host (the single-domain setup of
 * docs/spa-single-domain.md). It shows what an SPA behind Gatehouse does: read who is signed in from
 * `/.pomerium/user`, read a 401's `login_url`-style answer, send the user to sign in and back, sign out.
 */
export const SAMPLE_SPA_PATH = '/app/';

export const sampleSpaHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Gatehouse demo SPA</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
pre{background:#f3f3f3;padding:.75rem;border-radius:4px;overflow:auto}button{font:inherit}</style></head>
<body>
<h1>Gatehouse demo SPA</h1>
<p id="who">Checking who is signed in…</p>
<p><button id="call">Call /api/</button>
<a id="sign-in" hidden>Sign in</a>
<form id="sign-out" method="post" action="/.pomerium/sign_out" hidden><button>Sign out</button></form></p>
<pre id="out">Press the button: the page calls the protected API with fetch().</pre>
<script>
const signIn = document.getElementById('sign-in');
// Back to this page after signing in: /.pomerium/sign_in returns to pages of this Gatehouse's routes.
signIn.href = '/.pomerium/sign_in?pomerium_redirect_uri=' + encodeURIComponent(location.href);
async function who() {
  const answer = await fetch('/.pomerium/user');
  const body = await answer.json();
  const signedIn = answer.status === 200;
  document.getElementById('who').textContent = signedIn
    ? 'Signed in as ' + body.email + ' (' + body.groups.join(', ') + ')'
    : 'Nobody is signed in: the API will answer 401.';
  signIn.hidden = signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
}
document.getElementById('call').onclick = async () => {
  const answer = await fetch('/api/');
  document.getElementById('out').textContent = answer.status + '\\n' + JSON.stringify(await answer.json(), null, 2);
};
who();
</script>
</body></html>
`;
