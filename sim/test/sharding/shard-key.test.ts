// Unit tests of shard keys and chunk ranges (sim/src/sharding/shard-key.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Long, MaxKey, MinKey } from 'bson';
import {
  chunkFor,
  compareKeys,
  exactKeyOf,
  hashKeyValue,
  shardKeyOf,
  sortChunks,
} from '../../src/sharding/shard-key.js';

const chunks = [
  { min: { k: 50 }, max: { k: new MaxKey() }, shard: 'b' },
  { min: { k: new MinKey() }, max: { k: 0 }, shard: 'a' },
  { min: { k: 0 }, max: { k: 50 }, shard: 'a' },
];

describe('shard keys and chunk ranges', () => {
  it('finds the chunk whose [min, max) holds a key, MinKey and MaxKey bounding everything', () => {
    assert.equal(chunkFor(chunks, { k: -1e9 }, ['k'])?.max.k, 0);
    assert.equal(chunkFor(chunks, { k: 0 }, ['k'])?.min.k, 0, 'min is inclusive');
    assert.equal(chunkFor(chunks, { k: 50 }, ['k'])?.shard, 'b', 'max is exclusive');
    assert.equal(chunkFor(chunks, { k: 'text' }, ['k'])?.shard, 'b', 'strings sort after numbers');
    assert.equal(chunkFor(chunks, { k: null }, ['k'])?.max.k, 0, 'null sorts before numbers');
    assert.deepEqual(
      sortChunks(chunks, ['k']).map((c) => c.shard),
      ['a', 'a', 'b'],
    );
  });

  it('takes a missing key field as null and hashes hashed fields consistently', () => {
    assert.deepEqual(shardKeyOf({ _id: 1 }, { k: 1 }), { k: null });
    assert.deepEqual(shardKeyOf({ a: { b: 3 } }, { 'a.b': 1 }), { 'a.b': 3 });
    const h = shardKeyOf({ k: 'x' }, { k: 'hashed' }).k;
    assert.ok(h instanceof Long);
    assert.ok(hashKeyValue('x').equals(h as Long));
    assert.ok(!hashKeyValue('y').equals(h as Long));
  });

  it('targets only filters with equality on every key field', () => {
    assert.deepEqual(exactKeyOf({ k: 5, other: 1 }, { k: 1 }), { k: 5 });
    assert.deepEqual(exactKeyOf({ k: { $eq: 5 } }, { k: 1 }), { k: 5 });
    assert.equal(exactKeyOf({ k: { $gt: 5 } }, { k: 1 }), undefined);
    assert.equal(exactKeyOf({ a: 1 }, { a: 1, b: 1 }), undefined, 'compound key needs both fields');
    assert.deepEqual(exactKeyOf({ a: 1, b: 2 }, { a: 1, b: 1 }), { a: 1, b: 2 });
    assert.equal(compareKeys({ a: 1, b: 2 }, { a: 1, b: 3 }, ['a', 'b']) < 0, true);
  });
});
