// Page frame shared by every UI page: navigation, who is signed in, the vendored htmx, the stylesheet.
// The signed-in operator is read from the request being answered (hono/context-storage, set up in
// ui/routes.tsx), so no page has to pass it down: <body> carries the session's CSRF token for every
// htmx request (hx-headers is JSON, not script, so the CSP holds) and plain forms add the field.
import type { Child } from 'hono/jsx';
import { tryGetContext } from 'hono/context-storage';
import { CSRF_FIELD, CSRF_HEADER, roleAllows, type Principal } from '../services/access.shared.ts';

/**
 * htmx under the pages' Content-Security-Policy (server/securityHeaders.ts): no eval (no `hx-on`, no
 * `js:` values, no trigger filters), no scripts run from swapped HTML, no <style> of its own (its
 * indicator rules are in app.css), and no style attribute carried over when it swaps an element for
 * its new version (no page has one, but the browser, an extension or a test driver may add an empty one).
 */
export const htmxConfig = { includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, attributesToSettle: ['class', 'width', 'height'] };

export interface NavItem {
  href: string;
  label: string;
}

/** The labels keep the seed's words; the paths carry the domains' names. */
export const navigation: NavItem[] = [
  { href: '/', label: 'Home' },
  { href: '/request-runs/new', label: 'Sender' },
  { href: '/request-runs', label: 'Receiver Overview' },
  { href: '/cpu-load', label: 'Autoscaler' },
  { href: '/cf-convergences', label: 'Cloud Foundry' },
  { href: '/config-cache', label: 'Config Cache' },
  { href: '/nodes', label: 'Nodes' },
  { href: '/triggers', label: 'Triggers' },
  { href: '/fractals', label: 'Fractals' },
];

/** Pages only an admin may use; the audit log is for every role. */
export const adminNavigation: NavItem[] = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/tokens', label: 'Tokens' },
];

/** Who the page is rendered for, when someone is signed in. */
export function signedInPrincipal(): Principal | undefined {
  return tryGetContext()?.get('principal') as Principal | undefined;
}

/** The session's CSRF token as a plain form's hidden field (htmx requests send the header instead). */
export function CsrfField() {
  const token = signedInPrincipal()?.csrfToken;
  return token ? <input type="hidden" name={CSRF_FIELD} value={token} /> : null;
}

function Account({ principal }: { principal: Principal }) {
  return (
    <div class="account">
      {roleAllows(principal.role, 'admin') ? adminNavigation.map((item) => <a href={item.href}>{item.label}</a>) : null}
      <a href="/audit">Audit</a>
      <a href="/account/password" title={`role: ${principal.role}`}>
        {principal.name} <span class="role">{principal.role}</span>
      </a>
      <form method="post" action="/logout">
        <CsrfField />
        <button type="submit" class="plain">
          Sign out
        </button>
      </form>
    </div>
  );
}

export function Layout(props: { title: string; active: string; temporalWebUiUrl: string; children?: Child }) {
  const principal = signedInPrincipal();
  const csrf = principal?.csrfToken ? { 'hx-headers': JSON.stringify({ [CSRF_HEADER]: principal.csrfToken }) } : {};
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Fleet Runbooks`}</title>
        <meta name="htmx-config" content={JSON.stringify(htmxConfig)} />
        <link rel="stylesheet" href="/static/app.css" />
        <script src="/static/htmx.min.js" defer></script>
      </head>
      <body {...csrf}>
        <header class="topbar">
          <a class="brand" href="/">Fleet Runbooks</a>
          <nav>
            {navigation.map((item) => (
              <a href={item.href} class={item.href === props.active ? 'active' : undefined}>
                {item.label}
              </a>
            ))}
            <a href={props.temporalWebUiUrl} target="_blank" rel="noopener">
              Temporal Web UI ↗
            </a>
          </nav>
          {principal ? <Account principal={principal} /> : null}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
