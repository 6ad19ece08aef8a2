// Signing in and out, changing one's password, users and tokens (admins), and the audit log. Plain
// forms (no htmx): each answers with its page, so a token created is shown on the answer, once.
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Child } from 'hono/jsx';
import { access } from '../../server/access.ts';
import { auditQuerySchema, changePasswordSchema, createTokenSchema, createUserSchema, roleDescriptions, roles, SESSION_COOKIE, signInSchema, tokenIdSchema, usernameSchema } from '../../services/access.shared.ts';
import type { AccessService, ApiToken } from '../../services/access.ts';
import { parseInput, ServiceError } from '../../services/errors.ts';
import { FormActions } from '../components/formActions.tsx';
import { StatusBadge, Time } from '../components/format.tsx';
import type { Form } from '../forms.ts';
import { CsrfField, Layout, signedInPrincipal } from '../layout.tsx';
import { readForm } from '../forms.ts';

export interface AccessPagesDependencies {
  service: AccessService;
  temporalWebUiUrl: string;
}

/** Where a sign-in goes next: a path on this site only (`//evil.example` and `/\evil` are other sites to a browser). */
export function localPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

const field = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
const iso = (date: Date | null | undefined) => (date ? new Date(date).toISOString() : null);

/** A row's destructive action: a plain form posting to `action`, with the session's CSRF token. */
function RowAction({ action, label }: { action: string; label: string }) {
  return (
    <form method="post" action={action}>
      <CsrfField />
      <button type="submit" class="danger">
        {label}
      </button>
    </form>
  );
}

/** A table's header row. */
function Head({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th>{column}</th>
        ))}
      </tr>
    </thead>
  );
}

function RoleSelect({ id, selected }: { id: string; selected?: string }) {
  return (
    <select id={id} name="role">
      {roles.map((role) => (
        <option value={role} selected={role === (selected ?? 'operator')}>
          {role}: {roleDescriptions[role]}
        </option>
      ))}
    </select>
  );
}

function LoginPage({ next, error, username }: { next: string; error?: string; username?: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Sign in · Fleet Runbooks</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <main class="login">
          <h1>Fleet Runbooks</h1>
          <form class="stacked" method="post" action="/login">
            <input type="hidden" name="next" value={next} />
            <label for="login-username">Username</label>
            <input id="login-username" name="username" value={username ?? ''} autocomplete="username" required autofocus />
            <label for="login-password">Password</label>
            <input id="login-password" name="password" type="password" autocomplete="current-password" required />
            <FormActions submit="Sign in" error={error} />
          </form>
          <p class="muted">
            The first admin’s password is printed by <code>npm start</code> and kept in <code>.data/admin.password</code>.
          </p>
        </main>
      </body>
    </html>
  );
}

function UsersPage({ users, error, notice, values }: { users: Awaited<ReturnType<AccessService['users']['list']>>; error?: string; notice?: string; values?: Form }) {
  const me = signedInPrincipal();
  return (
    <>
      <section>
        <h1>Users</h1>
        <table class="users">
          <Head columns={['Username', 'Role', 'Password', 'Created', '']} />
          <tbody>
            {users.map((user) => (
              <tr data-user={user.username}>
                <td>{user.username}</td>
                <td>{user.role}</td>
                <td>{user.mustChangePassword ? <span class="muted">to be changed at first sign-in</span> : 'set by the user'}</td>
                <td>
                  <Time iso={iso(user.createdAt)} />
                </td>
                <td class="row-actions">
                  {user.username === me?.name ? null : (
                    <RowAction action={`/admin/users/${encodeURIComponent(user.username)}/delete`} label="Delete" />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Add a user</h2>
        <p class="muted">They choose their own password at first sign-in; tell them this one out of band.</p>
        <form class="stacked" method="post" action="/admin/users">
          <CsrfField />
          <label for="user-username">Username</label>
          <input id="user-username" name="username" value={field(values ?? {}, 'username')} required autocomplete="off" />
          <label for="user-role">Role</label>
          <RoleSelect id="user-role" selected={field(values ?? {}, 'role')} />
          <label for="user-password">Initial password</label>
          <input id="user-password" name="password" type="password" minlength={12} required autocomplete="new-password" />
          <FormActions submit="Add user" error={error} notice={notice} />
        </form>
      </section>
    </>
  );
}

function TokensPage({ tokens, created, error }: { tokens: ApiToken[]; created?: ApiToken & { token: string }; error?: string }) {
  return (
    <>
      <section>
        <h1>API tokens</h1>
        <p class="muted">
          Send one as <code>Authorization: Bearer &lt;token&gt;</code>. Only a token’s hash is stored: it is shown once, when it is made.
        </p>
        {created ? (
          <div class="secret-once" role="status" data-created-token={created.id}>
            <p>
              Token <strong>{created.name}</strong> ({created.role}). Copy it now; it will not be shown again:
            </p>
            <code id="created-token">{created.token}</code>
          </div>
        ) : null}
        <table class="tokens">
          <Head columns={['Name', 'Role', 'Starts with', 'Created by', 'Created', 'Last used', 'Status', '']} />
          <tbody>
            {tokens.map((token) => (
              <tr data-token={token.id}>
                <td>{token.name}</td>
                <td>{token.role}</td>
                <td>
                  <code>{token.prefix}…</code>
                </td>
                <td>{token.createdBy}</td>
                <td>
                  <Time iso={iso(token.createdAt)} />
                </td>
                <td>
                  <Time iso={iso(token.lastUsedAt)} missing="never" />
                </td>
                <td>
                  <StatusBadge status={token.status === 'active' ? 'completed' : 'terminated'} label={token.status} />
                </td>
                <td class="row-actions">
                  {token.status === 'active' ? (
                    <RowAction action={`/admin/tokens/${token.id}/revoke`} label="Revoke" />
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Create a token</h2>
        <form class="stacked" method="post" action="/admin/tokens">
          <CsrfField />
          <label for="token-name">Name</label>
          <input id="token-name" name="name" placeholder="ci-runner" required autocomplete="off" />
          <label for="token-role">Role</label>
          <RoleSelect id="token-role" />
          <FormActions submit="Create token" error={error} />
        </form>
      </section>
    </>
  );
}

function AuditPage({ entries, actor, older }: { entries: Awaited<ReturnType<AccessService['audit']['list']>>; actor?: string; older?: string }) {
  return (
    <section>
      <div class="section-head">
        <h1>Audit log</h1>
        {actor ? (
          <a href="/audit">
            Everyone (now: <code>{actor}</code>)
          </a>
        ) : null}
      </div>
      <p class="muted">Every change anyone made here: starts, cancels, switches, deletions, sign-ins. Also at <code>GET /api/audit</code>.</p>
      {entries.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <table class="audit">
          <Head columns={['When', 'Who', 'Role', 'What', 'Target', 'Status']} />
          <tbody>
            {entries.map((entry) => (
              <tr data-audit={entry.id}>
                <td>
                  <Time iso={iso(entry.at)} />
                </td>
                <td>
                  <a href={`/audit?actor=${encodeURIComponent(entry.actor)}`}>{entry.actor}</a>
                </td>
                <td>{entry.role}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td class="value-preview">{entry.target}</td>
                <td>
                  <StatusBadge status={entry.status < 400 ? 'completed' : 'failed'} label={String(entry.status)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {older ? <a href={older}>Older entries →</a> : null}
    </section>
  );
}

function PasswordPage({ error, forced }: { error?: string; forced: boolean }) {
  return (
    <section>
      <h1>Change your password</h1>
      {forced ? <p class="notice">Your password was chosen by someone else: choose your own to go on.</p> : null}
      <form class="stacked" method="post" action="/account/password">
        <CsrfField />
        <label for="current-password">Current password</label>
        <input id="current-password" name="currentPassword" type="password" autocomplete="current-password" required />
        <label for="new-password">New password</label>
        <input id="new-password" name="newPassword" type="password" autocomplete="new-password" minlength={12} required />
        <small class="hint muted">At least 12 characters.</small>
        <FormActions submit="Change password" error={error} />
      </form>
    </section>
  );
}

/** A refusal's message and status, to show on the page that was posted. */
function refused(error: unknown): { message: string; status: 400 | 401 | 404 | 409 | 422 | 429 } {
  if (error instanceof ServiceError) return { message: error.message, status: error.status as 400 };
  throw error;
}

export function accessPages(deps: AccessPagesDependencies) {
  const { service } = deps;
  const page = (c: Context, title: string, active: string, body: Child, status: 200 | 400 | 401 | 404 | 409 | 422 | 429 = 200) =>
    c.html(
      <Layout title={title} active={active} temporalWebUiUrl={deps.temporalWebUiUrl}>
        {body}
      </Layout>,
      status,
    );
  const secureCookie = (c: Context) => new URL(c.req.url).protocol === 'https:';
  const usersPage = async (c: Context, props: { error?: string; notice?: string; values?: Form } = {}, status: 200 | 400 | 404 | 409 | 422 = 200) =>
    page(c, 'Users', '/admin/users', <UsersPage users={await service.users.list()} {...props} />, status);
  const tokensPage = async (c: Context, props: { created?: ApiToken & { token: string }; error?: string } = {}, status: 200 | 400 | 404 = 200) =>
    page(c, 'API tokens', '/admin/tokens', <TokensPage tokens={await service.tokens.list()} {...props} />, status);

  return new Hono()
    .get('/login', access('public'), (c) => c.html(<LoginPage next={localPath(c.req.query('next'))} />))
    .post('/login', access('public'), async (c) => {
      const form = parseInput(signInSchema, await readForm(c));
      const next = localPath(form.next);
      try {
        const { sessionToken, principal } = await service.signIn(form.username, form.password, getCookie(c, SESSION_COOKIE));
        // HttpOnly: no script reads it; Strict: no other site's link or form carries it; no Max-Age: the
        // server ends it (idle and absolute expiry), and the browser forgets it when it closes.
        setCookie(c, SESSION_COOKIE, sessionToken, { httpOnly: true, sameSite: 'Strict', secure: secureCookie(c), path: '/' });
        await service.audit.record({ principal, action: 'sign-in', target: '/login', status: 303 });
        return c.redirect(principal.mustChangePassword ? '/account/password' : next, 303);
      } catch (error) {
        const { message, status } = refused(error);
        await service.audit.record({ principal: { actor: `user:${form.username.slice(0, 64)}`, role: '-' }, action: 'sign-in', target: '/login', status });
        return c.html(<LoginPage next={next} error={message} username={form.username} />, status);
      }
    })
    .post('/logout', access('viewer'), async (c) => {
      const session = getCookie(c, SESSION_COOKIE);
      if (session) await service.signOut(session);
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secureCookie(c) });
      return c.redirect('/login', 303);
    })
    .get('/account/password', access('viewer'), (c) => page(c, 'Password', '', <PasswordPage forced={Boolean(c.get('principal').mustChangePassword)} />))
    .post('/account/password', access('viewer'), async (c) => {
      const principal = c.get('principal');
      if (principal.kind !== 'session') throw new ServiceError(400, 'not_a_session', 'A token has no password; sign in to change yours.');
      try {
        const input = parseInput(changePasswordSchema, await readForm(c).then(({ currentPassword, newPassword }) => ({ currentPassword, newPassword })));
        await service.changePassword(principal.name, input.currentPassword, input.newPassword, getCookie(c, SESSION_COOKIE));
        return c.redirect('/', 303);
      } catch (error) {
        const { message, status } = refused(error);
        return page(c, 'Password', '', <PasswordPage forced={Boolean(principal.mustChangePassword)} error={message} />, status);
      }
    })
    .get('/admin/users', access('admin'), (c) => usersPage(c))
    .post('/admin/users', access('admin'), async (c) => {
      const form = await readForm(c);
      try {
        const user = await service.users.create(parseInput(createUserSchema, { username: form.username, role: form.role, password: form.password }));
        return usersPage(c, { notice: `Added ${user.username} (${user.role}).` });
      } catch (error) {
        const { message, status } = refused(error);
        return usersPage(c, { error: message, values: { username: form.username, role: form.role } }, status as 400);
      }
    })
    .post('/admin/users/:username/delete', access('admin'), async (c) => {
      try {
        const username = parseInput(usernameSchema, c.req.param('username'), 'username');
        await service.users.remove(username, c.get('principal'));
        return usersPage(c, { notice: `Deleted ${username}.` });
      } catch (error) {
        const { message, status } = refused(error);
        return usersPage(c, { error: message }, status as 400);
      }
    })
    .get('/admin/tokens', access('admin'), (c) => tokensPage(c))
    .post('/admin/tokens', access('admin'), async (c) => {
      const form = await readForm(c);
      try {
        const created = await service.tokens.create(parseInput(createTokenSchema, { name: form.name, role: form.role }), c.get('principal'));
        // Never cached: the answer holds the token.
        c.header('Cache-Control', 'no-store');
        return tokensPage(c, { created });
      } catch (error) {
        const { message, status } = refused(error);
        return tokensPage(c, { error: message }, status as 400);
      }
    })
    .post('/admin/tokens/:tokenId/revoke', access('admin'), async (c) => {
      try {
        await service.tokens.revoke(parseInput(tokenIdSchema, c.req.param('tokenId'), 'tokenId'));
        return c.redirect('/admin/tokens', 303);
      } catch (error) {
        const { message, status } = refused(error);
        return tokensPage(c, { error: message }, status as 400);
      }
    })
    .get('/audit', access('viewer'), async (c) => {
      const query = parseInput(auditQuerySchema, c.req.query());
      const entries = await service.audit.list(query);
      const last = entries.at(-1);
      const older = entries.length === query.limit && last ? `/audit?before=${last.id}${query.actor ? `&actor=${encodeURIComponent(query.actor)}` : ''}` : undefined;
      return page(c, 'Audit log', '/audit', <AuditPage entries={entries} actor={query.actor} older={older} />);
    });
}
