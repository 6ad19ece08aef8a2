#!/usr/bin/env node
// The `faafo` bin (`npx faafo …`): loads tsx's loader into this process, then runs scripts/faafo.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./faafo.ts');
process.exitCode = await main(process.argv.slice(2));
