// Config Cache: browse, edit and delete the keys of the config cache. Each request may reach
// another API instance, so every fragment says which instance rendered it and at which revision.
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { ConfigStoreUnavailableError, type ConfigCache, type ConfigEntry } from '../../services/configCache.ts';
import { CONFIG_ROUTE, configKeySchema, configValueSchema } from '../../services/configCache.shared.ts';
import { parseInput, ServiceError } from '../../services/errors.ts';
import { StatusBadge } from '../components/format.tsx';
import { Layout } from '../layout.tsx';
import { access } from '../../server/access.ts';
import { readForm } from '../forms.ts';

const LIST_LIMIT = 200;
const PREVIEW_CHARS = 120;

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

const preview = (json: string) => (json.length > PREVIEW_CHARS ? `${json.slice(0, PREVIEW_CHARS)}…` : json);

function ServedBy({ cache }: { cache: ConfigCache }) {
  const status = cache.status();
  return (
    <p class="served-by muted" data-instance={status.instance} data-cache-revision={String(status.revision)}>
      Served by instance <strong>{status.instance}</strong> (pid {process.pid}) · cache revision <strong>{status.revision}</strong> ·{' '}
      <StatusBadge status={status.state} /> · {status.keys.toLocaleString('en')} {status.keys === 1 ? 'key' : 'keys'} under{' '}
      <code>{status.keyPrefix}</code>
    </p>
  );
}

interface EditorProps {
  keyName?: string;
  value?: string;
  error?: string;
  filter?: string;
}

function Editor({ keyName = '', value = '', error, filter = '' }: EditorProps) {
  return (
    <form id="config-editor" class="stacked config-editor" hx-post="/ui/config-cache" hx-target="#config-cache-panel" hx-swap="outerHTML">
      <label for="config-key">Key</label>
      <input id="config-key" name="key" value={keyName} placeholder="feature-flags/checkout" required autocomplete="off" />
      <label for="config-value">Value (JSON)</label>
      <textarea id="config-value" name="value" rows={8} spellcheck={false} placeholder='{"enabled": true}'>
        {value}
      </textarea>
      <input type="hidden" name="filter" value={filter} />
      <div class="actions">
        <button class="primary" type="submit">
          Save
        </button>{' '}
        <button type="button" class="plain" hx-get="/ui/config-cache/editor" hx-target="#config-editor" hx-swap="outerHTML">
          Clear
        </button>
        {error ? (
          <p class="error-text" role="alert" data-error>
            {error}
          </p>
        ) : null}
      </div>
    </form>
  );
}

function KeysTable({ cache, entries, total, filter, error }: { cache: ConfigCache; entries: ConfigEntry[]; total: number; filter: string; error?: string }) {
  return (
    <div id="config-keys">
      {error ? <p class="error-text">{error}</p> : null}
      {entries.length === 0 && !error ? (
        <p class="muted">{filter ? `No key contains “${filter}”.` : 'No keys yet: save one above, or PUT /config/<key>.'}</p>
      ) : (
        <table class="config-keys">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Revision</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr data-key={entry.key}>
                <td>
                  <a href={`${CONFIG_ROUTE}${entry.key}`} target="_blank" rel="noopener">
                    <code>{entry.key}</code>
                  </a>
                </td>
                <td>
                  <code class="value-preview">{preview(entry.json)}</code>
                </td>
                <td>{entry.revision}</td>
                <td class="row-actions">
                  <button type="button" class="plain" hx-get={`/ui/config-cache/editor?key=${encodeURIComponent(entry.key)}`} hx-target="#config-editor" hx-swap="outerHTML">
                    Edit
                  </button>
                  <button
                    type="button"
                    class="danger"
                    hx-post="/ui/config-cache/delete"
                    hx-vals={JSON.stringify({ key: entry.key, filter })}
                    hx-confirm={`Delete ${entry.key}?`}
                    hx-target="#config-cache-panel"
                    hx-swap="outerHTML"
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {total > entries.length ? <p class="muted">Showing {entries.length} of {total.toLocaleString('en')} keys: filter to narrow the list.</p> : null}
      <p class="muted listed-by">
        Listed by instance {cache.instance} at cache revision {cache.revision}.
      </p>
    </div>
  );
}

async function keysTable(cache: ConfigCache, filter: string) {
  try {
    const { entries, total } = await cache.list({ filter, limit: LIST_LIMIT });
    return <KeysTable cache={cache} entries={entries} total={total} filter={filter} />;
  } catch (error) {
    if (!(error instanceof ConfigStoreUnavailableError)) throw error;
    return <KeysTable cache={cache} entries={[]} total={0} filter={filter} error={error.message} />;
  }
}

async function panel(cache: ConfigCache, options: { filter: string; editor?: EditorProps; notice?: Child }) {
  return (
    <div id="config-cache-panel">
      <ServedBy cache={cache} />
      {options.notice ? <p class="notice" role="status">{options.notice}</p> : null}
      <Editor {...options.editor} filter={options.filter} />
      <label class="key-filter">
        Keys containing{' '}
        <input
          type="search"
          name="filter"
          value={options.filter}
          placeholder="any"
          hx-get="/ui/partials/config-keys"
          hx-trigger="input changed delay:300ms, search"
          hx-target="#config-keys"
          hx-swap="outerHTML"
        />
      </label>
      {await keysTable(cache, options.filter)}
    </div>
  );
}

const field = (form: Record<string, unknown>, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');

export function configCachePages(deps: { cache: ConfigCache; temporalWebUiUrl: string }) {
  const { cache } = deps;
  // The same rules as PUT /config/<key>.
  const valueSchema = configValueSchema(cache.maxValueBytes);
  return new Hono()
    .get('/config-cache', access('viewer'), async (c) => {
      const filter = c.req.query('filter') ?? '';
      return c.html(
        <Layout title="Config Cache" active="/config-cache" temporalWebUiUrl={deps.temporalWebUiUrl}>
          <section>
            <h1>Config cache</h1>
            <p class="muted">
              Every API instance keeps these values in memory, in step with etcd (snapshot, then a watch). <code>GET {CONFIG_ROUTE}&lt;key&gt;</code> answers
              from memory; <code>?use_cache=false</code> reads etcd.
            </p>
            {await panel(cache, { filter })}
          </section>
        </Layout>,
      );
    })
    .get('/ui/partials/config-keys', access('viewer'), async (c) => c.html(await keysTable(cache, c.req.query('filter') ?? '')))
    .get('/ui/config-cache/editor', access('viewer'), async (c) => {
      const key = c.req.query('key');
      if (!key) return c.html(<Editor />);
      try {
        const { json } = await cache.get(key, { useCache: true });
        return c.html(json === null ? <Editor keyName={key} error={`${key} no longer exists.`} /> : <Editor keyName={key} value={pretty(json)} />);
      } catch (error) {
        if (!(error instanceof ConfigStoreUnavailableError)) throw error;
        return c.html(<Editor keyName={key} error={error.message} />);
      }
    })
    .post('/ui/config-cache', access('operator'), async (c) => {
      const form = await readForm(c);
      const key = field(form, 'key').trim();
      const value = field(form, 'value');
      const filter = field(form, 'filter');
      let json: string;
      try {
        parseInput(configKeySchema, key, 'key');
        json = parseInput(valueSchema, value);
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        // htmx swaps only 2xx answers, so problems come back in a 200 panel.
        return c.html(await panel(cache, { filter, editor: { keyName: key, value, error: error.message } }));
      }
      try {
        const { revision } = await cache.put(key, json);
        return c.html(await panel(cache, { filter, notice: <>Saved <code>{key}</code> at revision {revision}.</> }));
      } catch (error) {
        // A full cache (507) is told in the editor too.
        if (!(error instanceof ConfigStoreUnavailableError || error instanceof ServiceError)) throw error;
        return c.html(await panel(cache, { filter, editor: { keyName: key, value, error: error.message } }));
      }
    })
    .post('/ui/config-cache/delete', access('operator'), async (c) => {
      const form = await readForm(c);
      const key = field(form, 'key');
      const filter = field(form, 'filter');
      try {
        const { revision, deleted } = await cache.delete(key);
        const notice = deleted ? <>Deleted <code>{key}</code> at revision {revision}.</> : <><code>{key}</code> was already gone.</>;
        return c.html(await panel(cache, { filter, notice }));
      } catch (error) {
        if (!(error instanceof ConfigStoreUnavailableError)) throw error;
        return c.html(await panel(cache, { filter, notice: <span class="error-text">{error.message}</span> }));
      }
    });
}
