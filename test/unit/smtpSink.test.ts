// The SMTP sink in process: its store keeps at most N messages (in memory and on disk) and skips a
// corrupt line; the sink refuses or logs what it cannot take (a malformed or oversized message, a
// client that resets mid-message) and goes on serving.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSmtpSink } from '../../sim/smtp/sink.ts';
import { openMessageStore, type SinkMessage } from '../../sim/smtp/store.ts';

let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'smtp-sink-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const message = (n: number): SinkMessage => ({ id: `m${n}`, receivedAt: '2026-01-01T00:00:00.000Z', from: 'fleet@localhost', to: [`ops${n}@fleet.test`], subject: `s${n}`, text: `t${n}` });
const fileIds = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as SinkMessage).id);

describe('the message store', () => {
  it('keeps the newest N messages, in memory and on disk, and a reopened store has the same', () => {
    const path = join(dir, 'mail', 'messages.jsonl');
    const store = openMessageStore({ path, maxMessages: 3 });
    for (let n = 1; n <= 7; n++) store.add(message(n));
    expect(store.all().map((m) => m.id)).toEqual(['m5', 'm6', 'm7']);
    expect(fileIds(path)).toEqual(['m5', 'm6', 'm7']);
    expect(openMessageStore({ path, maxMessages: 3 }).all().map((m) => m.id)).toEqual(['m5', 'm6', 'm7']);
  });

  it('trims a file written with a larger limit when it opens', () => {
    const path = join(dir, 'messages.jsonl');
    const big = openMessageStore({ path, maxMessages: 10 });
    for (let n = 1; n <= 5; n++) big.add(message(n));
    expect(openMessageStore({ path, maxMessages: 2 }).all().map((m) => m.id)).toEqual(['m4', 'm5']);
    expect(fileIds(path)).toEqual(['m4', 'm5']);
  });

  it('skips a corrupt line, a line that is not a message and a torn last line, with a warning each, and rewrites the file clean', () => {
    const path = join(dir, 'messages.jsonl');
    const lines = [JSON.stringify(message(1)), '{"id": "m2", "to": [', JSON.stringify(message(3)), '{"id":"m4"}', '42', JSON.stringify(message(5)).slice(0, 30)];
    writeFileSync(path, lines.join('\n'));
    const warnings: string[] = [];
    const store = openMessageStore({ path, maxMessages: 10, warn: (w) => warnings.push(w) });
    expect(store.all().map((m) => m.id)).toEqual(['m1', 'm3']);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/messages\.jsonl:2: skipped a line that is not a message/);
    // The next message is appended on a line of its own, not onto the torn one.
    store.add(message(6));
    expect(fileIds(path)).toEqual(['m1', 'm3', 'm6']);
    expect(openMessageStore({ path, maxMessages: 10, warn: (w) => warnings.push(w) }).all()).toHaveLength(3);
    expect(warnings).toHaveLength(4);
  });

  it('clears memory and file', () => {
    const path = join(dir, 'messages.jsonl');
    const store = openMessageStore({ path, maxMessages: 5 });
    store.add(message(1));
    store.clear();
    expect(store.all()).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});

/** A line-based SMTP client on a raw socket, to send what nodemailer never would. */
async function rawSession(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  let buffer = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (data) => {
    buffer += data.toString();
    waiters.splice(0).forEach((wake) => wake());
  });
  socket.on('error', () => {});
  /** The next complete reply (its last line is `NNN text`). */
  const reply = async (): Promise<string> => {
    for (;;) {
      const match = /^(?:\d{3}-.*\r\n)*\d{3} .*\r\n/.exec(buffer);
      if (match) {
        buffer = buffer.slice(match[0].length);
        return match[0];
      }
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };
  const command = async (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  await reply();
  await command('EHLO test');
  return { socket, reply, command };
}

async function startSink(options: Parameters<typeof createSmtpSink>[0]) {
  const sink = createSmtpSink(options);
  await new Promise<void>((listening) => sink.smtp.listen(0, '127.0.0.1', listening));
  const { port } = sink.smtp.server.address() as AddressInfo;
  const messages = async () => (await (await sink.http.request('/messages')).json()) as { messages: SinkMessage[]; total: number };
  return { sink, port, messages, close: () => new Promise<void>((closed) => sink.smtp.close(closed)) };
}

async function send(port: number, to: string, data: string): Promise<string> {
  const session = await rawSession(port);
  await session.command('MAIL FROM:<fleet@localhost>');
  await session.command(`RCPT TO:<${to}>`);
  await session.command('DATA');
  const answer = await session.command(`${data}\r\n.`);
  await session.command('QUIT');
  session.socket.destroy();
  return answer;
}

describe('the SMTP sink', () => {
  it('keeps at most maxMessages, oldest dropped, in its mailbox and its file', async () => {
    const path = join(dir, 'messages.jsonl');
    const { port, messages, close } = await startSink({ storePath: path, maxMessages: 2 });
    try {
      for (const n of [1, 2, 3]) expect(await send(port, `ops${n}@fleet.test`, `Subject: s${n}\r\n\r\nbody ${n}`)).toMatch(/^250 /);
      const { messages: kept, total } = await messages();
      expect(total).toBe(2);
      expect(kept.map((m) => m.subject)).toEqual(['s3', 's2']);
      expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      await close();
    }
  });

  it('starts on a store with a corrupt line, warning about it', async () => {
    const path = join(dir, 'messages.jsonl');
    writeFileSync(path, `${JSON.stringify(message(1))}\n\u0000\u0001garbage{\n`);
    const warnings: string[] = [];
    const { messages, close } = await startSink({ storePath: path, warn: (w) => warnings.push(w) });
    try {
      expect((await messages()).messages.map((m) => m.id)).toEqual(['m1']);
      expect(warnings).toEqual([expect.stringMatching(/:2: skipped a line that is not a message/)]);
    } finally {
      await close();
    }
  });

  it('takes malformed messages without falling over, and refuses an oversized one with 552', async () => {
    const warnings: string[] = [];
    const { port, messages, close } = await startSink({ maxMessageBytes: 4096, warn: (w) => warnings.push(w) });
    try {
      const malformed = [
        'no headers at all, just \u00ff\u00fe bytes',
        'Subject: =?x-unknown?B?!!!?=\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n',
        'From: <<<@>>>\r\nTo: ,,,;;\r\nContent-Type: text/plain; charset="no-such-charset"\r\n\r\ntext',
        `Subject: ${'x'.repeat(900)}\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/alternative\r\n\r\n`,
      ];
      for (const data of malformed) expect(await send(port, 'ops@fleet.test', data)).toMatch(/^\d{3} /);
      expect(await send(port, 'ops@fleet.test', `Subject: big\r\n\r\n${'y'.repeat(8000)}`)).toMatch(/^552 /);
      expect(await send(port, 'ops@fleet.test', 'Subject: after\r\n\r\nstill here')).toMatch(/^250 /);
      const { messages: kept } = await messages();
      expect(kept[0]).toMatchObject({ subject: 'after', to: ['ops@fleet.test'], text: 'still here\n' });
      expect(kept.map((m) => m.subject)).not.toContain('big');
      expect(warnings).toContainEqual(expect.stringMatching(/refused a message: The message is larger/));
    } finally {
      await close();
    }
  });

  it('goes on after a client resets the connection mid-message', async () => {
    const warnings: string[] = [];
    const { port, messages, close } = await startSink({ warn: (w) => warnings.push(w) });
    try {
      const session = await rawSession(port);
      await session.command('MAIL FROM:<fleet@localhost>');
      await session.command('RCPT TO:<ops@fleet.test>');
      await session.command('DATA');
      session.socket.write('Subject: cut\r\n\r\nhalf a mess');
      await new Promise((wait) => setTimeout(wait, 50));
      session.socket.resetAndDestroy();
      await expect.poll(() => warnings.some((w) => /connection error/.test(w))).toBe(true);
      expect(await send(port, 'ops@fleet.test', 'Subject: next\r\n\r\nok')).toMatch(/^250 /);
      expect((await messages()).messages.map((m) => m.subject)).toEqual(['next']);
    } finally {
      await close();
    }
  });

  it('keeps nothing on disk without a store path', async () => {
    const { port, close } = await startSink({});
    try {
      expect(await send(port, 'ops@fleet.test', 'Subject: s\r\n\r\nt')).toMatch(/^250 /);
      expect(existsSync(join(dir, 'messages.jsonl'))).toBe(false);
    } finally {
      await close();
    }
  });
});
