// What every simulator process does the same way: one clear line for a port in use or a bad
// setting, and a prompt exit on SIGINT/SIGTERM (their state is in memory or already on disk).
import { ConfigError } from '../config.ts';

export function exitOnListenError(setting: string, port: number) {
  return (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `error: port ${port} is in use; set ${setting} to a free port.` : error);
    process.exit(1);
  };
}

export function runSimulator(main: () => void): void {
  try {
    main();
  } catch (error) {
    console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
    process.exit(1);
  }
  const shutdown = () => process.exit(0);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
