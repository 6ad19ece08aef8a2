// The stack's simulators in one process: the CF simulator (CF_SIM) and the SMTP sink (SMTP_SINK),
// each when its setting asks for it. Both are small HTTP/SMTP servers with their state in memory or
// on disk; one Node process for both costs about 60 MB less than one each. A crash of either
// restarts both, which loses nothing the sink had accepted (it is on disk).
import { loadConfig } from '../config.ts';
import { listenCfSimulator } from './cf/listen.ts';
import { runSimulator } from './process.ts';
import { listenSmtpSink } from './smtp/listen.ts';

runSimulator(() => {
  const config = loadConfig();
  if (config.cf.simulator.run) listenCfSimulator(config);
  if (config.smtp.sink.run) listenSmtpSink(config);
});
