import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import type { BinaryEvent } from '../../src/binaries/events.js';
import { createDownloadRenderer, formatBytes, formatDuration } from '../../src/ui/download-progress.js';

function progress(received: number, total: number | undefined): BinaryEvent {
  return {
    type: 'download-progress',
    name: 'a.tgz',
    receivedBytes: received,
    totalBytes: total,
    bytesPerSecond: 2 * 1024 * 1024,
    etaSeconds: total === undefined ? undefined : (total - received) / (2 * 1024 * 1024),
  };
}

function render(options: { json: boolean; tty: boolean }, events: BinaryEvent[], times?: number[]): string {
  let out = '';
  let i = 0;
  const now = () => times?.[Math.min(i, times.length - 1)] ?? 0;
  const renderer = createDownloadRenderer({ ...options, write: (t) => (out += t), now });
  for (const event of events) {
    renderer(event);
    i++;
  }
  return out;
}

const total = 100 * 1024 * 1024;
const many = Array.from({ length: 101 }, (_, k) => progress((total * k) / 100, total));

test('without a terminal, progress is a plain line per 10 %', () => {
  const out = render({ json: false, tty: false }, many);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 11);
  assert.ok(!out.includes('\r') && !out.includes('\u001b'), 'no carriage returns or escape codes');
  assert.match(
    lines[5] ?? '',
    /a\.tgz {2}50\.0 MiB \/ 100 MiB {2}50% \[#{10}-{10}\] {2}2\.0 MiB\/s {2}ETA 25s/,
  );
});

test('on a terminal, one line is rewritten in place', () => {
  const out = render({ json: false, tty: true }, [
    ...many.slice(0, 3),
    { type: 'download-done', name: 'a.tgz', receivedBytes: total, seconds: 50 },
  ]);
  assert.equal(out.split('\r\x1b[K').length, 4);
  assert.ok(out.includes('\n  \x1b[32m✔\x1b[39m downloaded'), 'colour on a terminal');
  assert.match(stripVTControlCharacters(out), /\n {2}✔ downloaded 100 MiB in 50\.0s\n$/);
});

test('in JSON mode every event is a JSON line, progress at most once a second', () => {
  const times = many.map((_, k) => k * 100); // an event every 100 ms
  const out = render({ json: true, tty: false }, many, times);
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; receivedBytes: number });
  assert.ok(lines.every((l) => l.event === 'download-progress'));
  assert.ok(lines.length >= 10 && lines.length <= 12, `${lines.length} lines`);
  assert.equal(lines.at(-1)?.receivedBytes, total, 'the final 100 % is always reported');
});

test('sizes and durations read naturally', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(734 * 1024 * 1024), '734 MiB');
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(3 * 3600 + 60), '3h01m');
});
