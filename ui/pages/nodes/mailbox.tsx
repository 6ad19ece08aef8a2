// The mailbox (/nodes/mailbox): what the runbooks mailed, as the local SMTP sink received it.
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { ServiceError } from '../../../services/errors.ts';
import type { NodesService } from '../../../services/nodes.ts';
import { Time } from '../../components/format.tsx';
import type { NodesFrame } from './shared.tsx';
import { access } from '../../../server/access.ts';

type Mailbox = Awaited<ReturnType<NodesService['mailbox']>>;

function MailList({ mailbox, to }: { mailbox: Mailbox; to: string }) {
  if (mailbox.messages.length === 0) return <p class="muted">{to ? `No message to ${to}.` : 'No message yet: deployments and removals mail their cluster’s notify address.'}</p>;
  const newestFirst = [...mailbox.messages].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  return (
    <>
      <p class="muted">
        {newestFirst.length < mailbox.total ? `Newest ${newestFirst.length} of ${mailbox.total} messages.` : `${mailbox.total} message(s), newest first.`}
      </p>
      <div class="mails">
        {newestFirst.map((m) => (
          <article class="mail" data-mail-id={m.id}>
            <header>
              <strong class="mail-subject">{m.subject || '(no subject)'}</strong>
              <span class="muted">
                <Time iso={m.receivedAt} /> · to {m.to.join(', ')} · from {m.from}
              </span>
            </header>
            <pre class="output">{m.text}</pre>
          </article>
        ))}
      </div>
    </>
  );
}

export function mailboxRoutes(service: NodesService, { page }: NodesFrame) {
  return new Hono().get('/nodes/mailbox', access('viewer'), async (c) => {
    const to = c.req.query('to')?.trim() ?? '';
    let content: Child;
    try {
      content = <MailList mailbox={await service.mailbox(to || undefined)} to={to} />;
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      content = <p class={error.code === 'no_local_mailbox' ? 'notice' : 'error-text'}>{error.message}</p>;
    }
    return c.html(
      page(
        'Mailbox',
        <section>
          <div class="section-head">
            <h1>Mailbox</h1>
            <form class="inline-filter" method="get" action="/nodes/mailbox">
              <input type="search" name="to" value={to} placeholder="recipient" aria-label="Recipient" />
              <button class="plain" type="submit">
                Filter
              </button>
            </form>
          </div>
          <p class="muted">What the runbooks mailed, as the local SMTP sink received it; nothing is relayed.</p>
          {content}
        </section>,
      ),
    );
  });
}
