// The sink's mailbox: the newest messages, in memory and in a JSON-lines file that survives a
// restart. Both hold at most `maxMessages`: past that the oldest go, from memory and from the file.
// A line that is not a message (a torn write, a hand edit) is skipped with a warning, never fatal.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SinkMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface MessageStoreOptions {
  /** JSON-lines file the mailbox is kept in (undefined: memory only). */
  path?: string;
  /** The newest messages kept; older ones are dropped. */
  maxMessages: number;
  /** Where skipped lines are reported (default console.warn). */
  warn?: (message: string) => void;
}

export interface MessageStore {
  /** Oldest first. */
  all(): readonly SinkMessage[];
  add(message: SinkMessage): void;
  clear(): void;
}

function isSinkMessage(value: unknown): value is SinkMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    ['id', 'receivedAt', 'from', 'subject', 'text'].every((key) => typeof m[key] === 'string') &&
    Array.isArray(m.to) &&
    m.to.every((address) => typeof address === 'string')
  );
}

/** The messages of a store file, and whether it needs rewriting (a line skipped, or a last line without its newline). */
function readStore(path: string, warn: (message: string) => void): { messages: SinkMessage[]; unclean: boolean } {
  const messages: SinkMessage[] = [];
  const raw = readFileSync(path, 'utf8');
  let skipped = 0;
  raw
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined;
      }
      if (isSinkMessage(value)) {
        messages.push(value);
      } else {
        skipped += 1;
        warn(`${path}:${index + 1}: skipped a line that is not a message (${line.length} characters: ${JSON.stringify(line.slice(0, 60))})`);
      }
    });
  return { messages, unclean: skipped > 0 || (raw.length > 0 && !raw.endsWith('\n')) };
}

export function openMessageStore(options: MessageStoreOptions): MessageStore {
  const { path, maxMessages } = options;
  const warn = options.warn ?? ((message: string) => console.warn(message));
  let messages: SinkMessage[] = [];

  /** Replaces the file with exactly the messages in memory (written aside, then renamed over it). */
  const rewrite = () => {
    if (!path) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
    renameSync(`${path}.tmp`, path);
  };

  if (path && existsSync(path)) {
    const loaded = readStore(path, warn);
    messages = loaded.messages.slice(-maxMessages);
    // A clean file again: no corrupt line, no torn last line for the next append to join, no excess.
    if (loaded.unclean || loaded.messages.length > maxMessages) rewrite();
  }

  return {
    all: () => messages,
    add(message) {
      messages.push(message);
      if (messages.length > maxMessages) {
        messages = messages.slice(-maxMessages);
        rewrite();
      } else if (path) {
        mkdirSync(dirname(path), { recursive: true });
        appendFileSync(path, `${JSON.stringify(message)}\n`);
      }
    },
    clear() {
      messages = [];
      rewrite();
    },
  };
}
