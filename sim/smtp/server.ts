// The SMTP sink as a process: `tsx sim/smtp/server.ts`, SMTP on SMTP_PORT and its mailbox over HTTP
// on SMTP_SINK_HTTP_PORT. The stack starts it when SMTP_SINK is true.
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from '../../config.ts';
import { createSmtpSink } from './sink.ts';

function main(): void {
  const config = loadConfig();
  const { host, port, sink: sinkSettings } = config.smtp;
  const sink = createSmtpSink({ storePath: join(config.dataDir, 'mail', 'messages.jsonl') });
  const fail = (setting: string, usedPort: number) => (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `error: port ${usedPort} is in use; set ${setting} to a free port.` : error);
    process.exit(1);
  };
  sink.smtp.on('error', fail('SMTP_PORT', port));
  sink.smtp.listen(port, host, () => console.log(`SMTP sink listening on ${host}:${port} (pid ${process.pid})`));
  const http = serve({ fetch: sink.http.fetch, hostname: host, port: sinkSettings.httpPort }, () =>
    console.log(`SMTP sink mailbox on http://${host}:${sinkSettings.httpPort}/messages`),
  );
  http.on('error', fail('SMTP_SINK_HTTP_PORT', sinkSettings.httpPort));
  const shutdown = () => process.exit(0);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

try {
  main();
} catch (error) {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
}
