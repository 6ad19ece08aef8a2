// Page URLs that moved when each domain took one name answer 301 to where the page lives now, with
// its parameters and query string. The UI is built on stub services: a redirect never reaches them.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Services } from '../../services/index.ts';
import { createUi } from '../../ui/routes.tsx';
import { stubAccess } from './support/stubAccess.ts';

const stubServices = {
  temporalWebUiUrl: 'http://temporal.test',
  requestRun: { inputSchema: z.object({}), allowedDestinations: [] },
  nodes: { model: {} },
} as unknown as Services;

describe('moved UI pages', () => {
  const ui = createUi(stubServices, { access: stubAccess().service });

  it.each([
    ['/autoscaler', '/cpu-load'],
    ['/autoscaler?target=web-1', '/cpu-load?target=web-1'],
    ['/sender', '/request-runs/new'],
    ['/receiver-stats', '/request-runs'],
    ['/runs/01a2b3c4-5d6e', '/request-runs/01a2b3c4-5d6e'],
    ['/cf', '/cf-convergences'],
    ['/cf/cf-converge-default-scale-org-scale-space', '/cf-convergences/cf-converge-default-scale-org-scale-space'],
  ])('sends %s on to %s for good', async (from, to) => {
    const response = await ui.request(from);
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe(to);
  });

});
