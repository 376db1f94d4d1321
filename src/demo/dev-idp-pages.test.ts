import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMessagePage, renderSignInPage, renderSigningOutPage } from './dev-idp-pages.js';
import { devIdpUsers } from './dev-idp-users.js';

describe('escapeHtml', () => {
  it('escapes the five characters that can end an attribute or start markup', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('renderSignInPage', () => {
  const page = renderSignInPage({
    signInAction: '/interaction/abc/login',
    cancelAction: '/interaction/abc/abort',
    clientName: '<script>alert(1)</script>',
    users: devIdpUsers,
  });

  it('offers one submit button per user, posting user=<id> to the sign-in action', () => {
    expect(page).toContain('<form method="post" action="/interaction/abc/login">');
    expect(page).toContain('name="user" value="alice"');
    expect(page).toContain('name="user" value="bob"');
    expect(page).toContain('Alice Example');
    expect(page).toContain('Groups: contractors');
  });

  it('offers a cancel button posting to the cancel action', () => {
    expect(page).toContain('<form method="post" action="/interaction/abc/abort">');
  });

  it('escapes the client name', () => {
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>');
  });

  it('warns that it is for development only and asks for no password', () => {
    expect(page).toContain('Development only.');
    expect(page).toContain('no password');
    expect(page).not.toContain('type="password"');
  });

  it('escapes user fields', () => {
    const hostile = renderSignInPage({
      signInAction: '/x',
      cancelAction: '/y',
      clientName: 'c',
      users: [{ id: '"><b>', email: '<i>@x', emailVerified: true, name: 'A&B', groups: ['<g>'] }],
    });
    expect(hostile).toContain('value="&quot;&gt;&lt;b&gt;"');
    expect(hostile).toContain('A&amp;B');
    expect(hostile).toContain('Groups: &lt;g&gt;');
  });
});

describe('renderMessagePage', () => {
  it('escapes the title and the message', () => {
    const page = renderMessagePage('<t>', '<m>');
    expect(page).toContain('<h1>&lt;t&gt;</h1>');
    expect(page).toContain('<p>&lt;m&gt;</p>');
  });
});

describe('renderSigningOutPage', () => {
  it('adds logout=yes to the provider form and submits it without asking', () => {
    const page = renderSigningOutPage(
      '<form id="op.logoutForm" method="post" action="/session/end/confirm"></form>',
    );
    expect(page).toContain('<form id="op.logoutForm" method="post" action="/session/end/confirm"></form>');
    expect(page).toContain('<input type="hidden" form="op.logoutForm" name="logout" value="yes">');
    expect(page).toContain("document.getElementById('op.logoutForm').submit();");
  });
});
