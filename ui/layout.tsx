// Page frame shared by every UI page: navigation, the vendored htmx, the stylesheet.
import type { Child } from 'hono/jsx';

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
];

export function Layout(props: { title: string; active: string; temporalWebUiUrl: string; children?: Child }) {
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
      <body>
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
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
