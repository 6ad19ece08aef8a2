// The SMTP sink: SMTP on SMTP_PORT and its mailbox over HTTP on SMTP_SINK_HTTP_PORT. Run by the
// stack's simulators process (sim/main.ts) or alone (sim/smtp/server.ts).
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Config } from '../../config.ts';
import { exitOnListenError } from '../process.ts';
import { createSmtpSink } from './sink.ts';

export function listenSmtpSink(config: Config): void {
  const { host, port, sink: sinkSettings } = config.smtp;
  const sink = createSmtpSink({ storePath: join(config.dataDir, 'mail', 'messages.jsonl'), maxMessages: sinkSettings.maxMessages });
  // Only a failure to listen ends the process; the sink logs its clients' connection errors itself.
  const exitOnSmtpListenError = exitOnListenError('SMTP_PORT', port);
  sink.smtp.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall === 'listen') exitOnSmtpListenError(error);
  });
  sink.smtp.listen(port, host, () => console.log(`SMTP sink listening on ${host}:${port} (pid ${process.pid})`));
  const http = serve({ fetch: sink.http.fetch, hostname: host, port: sinkSettings.httpPort }, () =>
    console.log(`SMTP sink mailbox on http://${host}:${sinkSettings.httpPort}/messages`),
  );
  http.on('error', exitOnListenError('SMTP_SINK_HTTP_PORT', sinkSettings.httpPort));
}
