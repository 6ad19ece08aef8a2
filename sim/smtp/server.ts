// The SMTP sink alone as a process: `tsx sim/smtp/server.ts`. The stack runs it in its simulators
// process (sim/main.ts) when SMTP_SINK is true.
import { loadConfig } from '../../config.ts';
import { runSimulator } from '../process.ts';
import { listenSmtpSink } from './listen.ts';

// Each message is on disk once it is accepted: nothing to flush at a stop.
runSimulator(() => listenSmtpSink(loadConfig()));
