// Every workflow the workers run: the entry point of the workflow bundle.
export { healthCheck } from './healthCheck.ts';
