// Droplets: show, list, copy (POST /v3/droplets?source_guid=: COPYING, then STAGED or FAILED in the
// background), delete (as a job), and an app's current droplet.
import { Hono, type Context } from 'hono';
import { isObject, readBody, relationshipGuid } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentDroplet } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { App, Droplet } from '../state.ts';
import { accepted, canReadSpace, deleteJob, mustFind, touch, visibleApp, writableApp } from './shared.ts';

export function dropletRoutes(runtime: SimRuntime) {
  const filters = {
    guids: (d: Droplet, guids: string[]) => guidIn(guids, d.guid),
    states: (d: Droplet, states: string[]) => states.includes(d.state),
    app_guids: (d: Droplet, guids: string[]) => guidIn(guids, d.appGuid),
    space_guids: (d: Droplet, guids: string[]) => guidIn(guids, runtime.state.spaceOfApp(d.appGuid)?.guid),
    organization_guids: (d: Droplet, guids: string[]) => guidIn(guids, runtime.state.spaceOfApp(d.appGuid)?.orgGuid),
  };

  const currentDroplet = (app: App): Droplet => {
    const droplet = app.currentDropletGuid ? runtime.state.droplets.get(app.currentDropletGuid) : undefined;
    if (!droplet) throw cfErrors.notFound('Droplet');
    return droplet;
  };

  const currentDropletRelationship = (c: Context<SimEnv>, app: App) => ({
    data: { guid: app.currentDropletGuid },
    links: {
      self: { href: `${c.var.baseUrl}/v3/apps/${app.guid}/relationships/current_droplet` },
      related: { href: `${c.var.baseUrl}/v3/apps/${app.guid}/droplets/current` },
    },
  });

  const copy = async (c: Context<SimEnv>, sourceGuid: string) => {
    const body = await readBody(c, ['relationships']);
    const appGuid = relationshipGuid(body, 'app');
    const { state } = runtime;
    // app/controllers/v3/droplets_controller.rb#copy, in its order: the source (404), staged (400
    // UnableToPerform), the destination app (404), write access (403).
    const source = state.droplets.get(sourceGuid);
    const sourceApp = source && state.apps.get(source.appGuid);
    if (!source || !sourceApp || !canReadSpace(c, runtime, sourceApp.spaceGuid)) throw cfErrors.notFound('Droplet');
    if (source.state !== 'STAGED') throw cfErrors.unableToPerform('Droplet copy', 'source droplet is not staged');
    const app = writableApp(c, runtime, appGuid);
    const droplet: Droplet = { ...state.newResource(), ...structuredClone(copiedAttributes(source)), appGuid: app.guid, state: 'COPYING', error: null, packageGuid: null };
    state.droplets.set(droplet.guid, droplet);
    const fails = runtime.fires('failNextCopies', 'copyFailureRate');
    // CC's DropletBitsCopier job (max_attempts 1): STAGED, or FAILED with "failed to copy - <reason>".
    state.schedule(runtime.knobs.copyDelayMs, (at) => {
      droplet.state = fails ? 'FAILED' : 'STAGED';
      if (fails) droplet.error = 'failed to copy - the blobstore refused the copy (fault injected by the simulator)';
      droplet.updatedAt = at;
    });
    return c.json(presentDroplet(droplet, c.var.baseUrl), 201);
  };

  return new Hono<SimEnv>()
    .post('/droplets', (c) => {
      const sourceGuid = c.req.query('source_guid');
      if (!sourceGuid) throw cfErrors.unprocessable('The simulator creates droplets only by staging a build or by copy (POST /v3/droplets?source_guid=…).');
      return copy(c, sourceGuid);
    })
    .get('/droplets', (c) => listResponse(c, runtime.state.droplets.values(), { filters }, (d) => presentDroplet(d, c.var.baseUrl)))
    .get('/droplets/:guid', (c) => c.json(presentDroplet(mustFind(runtime.state.droplets, c.req.param('guid'), 'Droplet'), c.var.baseUrl)))
    .delete('/droplets/:guid', (c) => {
      const droplet = mustFind(runtime.state.droplets, c.req.param('guid'), 'Droplet');
      return accepted(c, deleteJob(runtime, 'droplet.delete', () => runtime.state.deleteDroplet(droplet.guid)));
    })
    .get('/apps/:guid/droplets', (c) => {
      const app = visibleApp(c, runtime, c.req.param('guid'));
      const droplets = [...runtime.state.droplets.values()].filter((d) => d.appGuid === app.guid);
      return listResponse(
        c,
        droplets,
        {
          filters: {
            guids: filters.guids,
            states: filters.states,
            current: (d, values) => values.includes('true') === (d.guid === app.currentDropletGuid),
          },
        },
        (d) => presentDroplet(d, c.var.baseUrl),
      );
    })
    .get('/apps/:guid/droplets/current', (c) => c.json(presentDroplet(currentDroplet(visibleApp(c, runtime, c.req.param('guid'))), c.var.baseUrl)))
    .get('/apps/:guid/relationships/current_droplet', (c) => {
      const app = visibleApp(c, runtime, c.req.param('guid'));
      currentDroplet(app);
      return c.json(currentDropletRelationship(c, app));
    })
    .patch('/apps/:guid/relationships/current_droplet', async (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      const body = await readBody(c, ['data']);
      if (body.data === null) throw cfErrors.unprocessable('Current droplet cannot be removed. Replace it with a preferred droplet.');
      const guid = isObject(body.data) ? body.data.guid : undefined;
      const droplet = typeof guid === 'string' ? runtime.state.droplets.get(guid) : undefined;
      if (!droplet || droplet.appGuid !== app.guid) {
        throw cfErrors.unprocessable('Unable to assign current droplet. Ensure the droplet exists and belongs to this app.');
      }
      if (droplet.state !== 'STAGED') // Sequel's ValidationFailed message for the app model's validate_droplet_is_staged, lower case as Sequel writes it.
      throw cfErrors.unprocessable('droplet must be in staged state');
      app.currentDropletGuid = droplet.guid;
      touch(app, runtime);
      return c.json(currentDropletRelationship(c, app));
    });
}

/** What DropletCopy clones from the source (process types, stack, buildpacks, checksum; the bits, so what staging found in them). */
function copiedAttributes(source: Droplet): Pick<Droplet, 'stack' | 'buildpacks' | 'processTypes' | 'checksum' | 'listensOnPort' | 'startFailure'> {
  return {
    stack: source.stack,
    buildpacks: source.buildpacks,
    processTypes: source.processTypes,
    checksum: source.checksum,
    listensOnPort: source.listensOnPort,
    startFailure: source.startFailure,
  };
}
