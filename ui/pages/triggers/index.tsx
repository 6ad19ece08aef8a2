// Triggers and counters in the UI, one module per page: the Triggers list (with sampling and the New
// trigger form), a trigger's page, the trigger and chain editor, and the counters with their editor.
import { Hono } from 'hono';
import { countersRoutes } from './counters.tsx';
import { triggerRoutes } from './trigger.tsx';
import { triggerEditorRoutes } from './triggerEditor.tsx';
import { triggersRoutes } from './triggers.tsx';
import { triggersFrame, type TriggerPagesDependencies } from './shared.tsx';

export type { TriggerPagesDependencies };

export function triggerPages(deps: TriggerPagesDependencies) {
  const frame = triggersFrame(deps);
  return new Hono()
    .route('/', triggersRoutes(deps, frame))
    .route('/', triggerEditorRoutes(deps, frame))
    .route('/', triggerRoutes(deps, frame))
    .route('/', countersRoutes(deps, frame));
}
