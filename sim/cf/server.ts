// The CF simulator alone as a process: `tsx sim/cf/server.ts`, on CF_SIM_PORT. The stack runs it in
// its simulators process (sim/main.ts) when CF_SIM is true.
import { loadConfig } from '../../config.ts';
import { runSimulator } from '../process.ts';
import { listenCfSimulator } from './listen.ts';

// Everything is in memory: nothing to flush, so a stop need not wait for keep-alive connections.
runSimulator(() => listenCfSimulator(loadConfig()));
