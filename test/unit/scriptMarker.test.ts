// What the at-most-once wrapper printed, split into the script's own output (scriptMarker.ts
// parseMarkedOutput): a login shell's start files may print first (this machine's root runs
// `pyenv rehash`, which prints `rm: cannot remove …` when logins race), and that is not the script's.
import { describe, expect, it } from 'vitest';
import { LOST_MESSAGE, parseMarkedOutput } from '../../activities/nodes/scriptMarker.ts';

const noise = "rm: cannot remove '/root/.pyenv/shims/.pyenv-shim': No such file or directory\n";

describe("the script's output out of the wrapper's", () => {
  it("leaves out what the login printed before the wrapper's lines, on both streams", () => {
    const parsed = parseMarkedOutput(`motd line\nfleet-run-sizes 6 4\nhello\n`, `${noise}fleet-run-stderr\noops`, 16);
    expect(parsed).toEqual({ stdout: 'hello\n', stderr: 'oops', stdoutBytes: 6, stderrBytes: 4, stdoutTruncated: false, stderrTruncated: false });
  });

  it("keeps the script's own lines that look like the wrapper's", () => {
    const parsed = parseMarkedOutput('fleet-run-sizes 33 17\nfleet-run-sizes 1 1\nfleet-run-stderr\n', 'fleet-run-stderr\nfleet-run-stderr\n', 64);
    expect(parsed).toMatchObject({ stdout: 'fleet-run-sizes 1 1\nfleet-run-stderr\n', stderr: 'fleet-run-stderr\n' });
  });

  it('cuts at the cap and says how much there was', () => {
    const parsed = parseMarkedOutput(`fleet-run-sizes 20 3\n${'x'.repeat(9)}`, 'fleet-run-stderr\nabc', 8);
    expect(parsed).toEqual({ stdout: 'x'.repeat(8), stderr: 'abc', stdoutBytes: 20, stderrBytes: 3, stdoutTruncated: true, stderrTruncated: false });
  });

  it('keeps everything when the wrapper did not get to its lines (an earlier attempt lost)', () => {
    const parsed = parseMarkedOutput('', `${noise}${LOST_MESSAGE}\n`, 1024);
    expect(parsed.stderr).toBe(`${noise}${LOST_MESSAGE}\n`);
    expect(parsed.stdoutBytes).toBe(0);
  });
});
