import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colorsFor } from '../../src/ui/colors.js';

test('colour follows the terminal, NO_COLOR, TERM=dumb and FORCE_COLOR — not the CI variable', () => {
  const red = (tty: boolean, env: NodeJS.ProcessEnv) => colorsFor(tty, env).red('x');
  assert.equal(red(false, { CI: 'true' }), 'x', 'piped output under CI stays plain');
  assert.equal(red(true, {}), '\x1b[31mx\x1b[39m');
  assert.equal(red(true, { NO_COLOR: '1' }), 'x');
  assert.equal(red(false, { FORCE_COLOR: '1' }), '\x1b[31mx\x1b[39m');
  assert.equal(red(false, { FORCE_COLOR: '0' }), 'x');
  assert.equal(red(true, { FORCE_COLOR: '0' }), 'x', 'FORCE_COLOR=0 turns colour off on a terminal too');
  assert.equal(red(true, { TERM: 'dumb' }), 'x');
});
