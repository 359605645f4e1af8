import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandDottedKeys, mergeUserConfig, orderKeys } from '../../src/render/config-tree.js';

describe('expandDottedKeys', () => {
  it('nests dotted keys and keeps nested ones', () => {
    const { tree, problems } = expandDottedKeys({ 'a.b.c': 1, a: { 'b.d': 2, e: 3 }, f: [1, 2] });
    assert.deepEqual(tree, { a: { b: { c: 1, d: 2 }, e: 3 }, f: [1, 2] });
    assert.deepEqual(problems, []);
  });

  it('reports a value and a section at one path', () => {
    const { problems } = expandDottedKeys({ 'a.b': 1, 'a.b.c': 2 });
    assert.deepEqual(
      problems.map((p) => [p.code, p.option]),
      [['duplicate-key', 'a.b']],
    );
  });
});

describe('mergeUserConfig', () => {
  it('merges sections, lets user values win off owned paths, and does not touch its inputs', () => {
    const base = { net: { port: 1, bindIp: 'x' } };
    const user = { net: { bindIp: 'y', ipv6: true }, extra: { k: 'v' } };
    const { tree, problems } = mergeUserConfig(base, user, new Set(['net.port']));
    assert.deepEqual(tree, { net: { port: 1, bindIp: 'y', ipv6: true }, extra: { k: 'v' } });
    assert.deepEqual(problems, []);
    assert.deepEqual(base, { net: { port: 1, bindIp: 'x' } });
  });

  it('keeps mup value on an owned path and reports the difference', () => {
    const { tree, problems } = mergeUserConfig(
      { net: { port: 1 } },
      { net: { port: 2 } },
      new Set(['net.port']),
    );
    assert.deepEqual(tree, { net: { port: 1 } });
    assert.equal(problems[0]?.code, 'mup-owned');
    assert.match(problems[0]?.message ?? '', /mup sets it to 1/);
  });
});

describe('orderKeys', () => {
  it('orders top-level keys by the given list, then alphabetically; nested keys alphabetically', () => {
    const ordered = orderKeys({ z: 1, b: { y: 1, x: { d: 1, c: 2 } }, a: 1 }, ['b']);
    assert.equal(JSON.stringify(ordered), '{"b":{"x":{"c":2,"d":1},"y":1},"a":1,"z":1}');
  });
});
