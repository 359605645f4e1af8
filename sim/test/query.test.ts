// Query, update and projection semantics the simulator's CRUD relies on: array membership, dotted
// paths, numeric equality across BSON types, operator errors with mongod's codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Double, Int32, Long } from 'bson';
import { compareValues, idKey } from '../src/bsonvalues.js';
import type { CommandError } from '../src/errors.js';
import { compileFilter, equalityFields } from '../src/query/match.js';
import { compileProjection, compileSort } from '../src/query/project.js';
import { applyOperators, applyReplacement, checkUpdateShape } from '../src/query/update.js';

const docs = [
  { _id: 1, a: 1, tags: ['x', 'y'], sub: { n: 5 }, arr: [{ k: 1 }, { k: 2 }] },
  { _id: 2, a: new Int32(2), tags: ['y'], sub: { n: 7 } },
  { _id: 3, a: new Double(3.5), tags: [], arr: [{ k: 3 }] },
  { _id: 4, a: null },
  { _id: 5 },
];
const ids = (filter: object) => docs.filter(compileFilter(filter)).map((d) => d._id);

describe('query matching', () => {
  it('matches equality, arrays, dotted paths and nulls as mongod does', () => {
    assert.deepEqual(ids({ a: 2 }), [2], 'Int32(2) equals 2');
    assert.deepEqual(ids({ a: new Long(1) }), [1], 'Long(1) equals 1');
    assert.deepEqual(ids({ tags: 'y' }), [1, 2], 'a value matches an array that contains it');
    assert.deepEqual(ids({ tags: ['y'] }), [2], 'an array matches an equal array');
    assert.deepEqual(ids({ 'sub.n': 7 }), [2]);
    assert.deepEqual(ids({ 'arr.k': 2 }), [1], 'dotted paths reach into array elements');
    assert.deepEqual(ids({ a: null }), [4, 5], 'null matches missing fields too');
    assert.deepEqual(ids({ a: { $exists: true } }), [1, 2, 3, 4]);
    assert.deepEqual(ids({ tags: { $size: 0 } }), [3]);
  });

  it('supports comparison, set and logical operators', () => {
    assert.deepEqual(ids({ a: { $gt: 1 } }), [2, 3]);
    assert.deepEqual(ids({ a: { $gte: 1, $lt: 3 } }), [1, 2]);
    assert.deepEqual(ids({ a: { $in: [1, 3.5] } }), [1, 3]);
    assert.deepEqual(ids({ a: { $nin: [1, 2, null] } }), [3]);
    assert.deepEqual(ids({ a: { $ne: 1 } }), [2, 3, 4, 5]);
    assert.deepEqual(
      ids({ tags: { $ne: 'y' } }),
      [3, 4, 5],
      '$ne on arrays excludes arrays holding the value',
    );
    assert.deepEqual(ids({ $or: [{ a: 1 }, { 'sub.n': 7 }] }), [1, 2]);
    assert.deepEqual(ids({ $nor: [{ a: 1 }, { a: null }] }), [2, 3]);
    assert.deepEqual(ids({ arr: { $elemMatch: { k: { $gt: 1 } } } }), [1, 3]);
    assert.deepEqual(ids({ tags: { $all: ['x', 'y'] } }), [1]);
    assert.deepEqual(ids({ a: { $not: { $gt: 1 } } }), [1, 4, 5]);
    assert.deepEqual(ids({ a: { $type: 'double' } }), [3]);
    assert.deepEqual(ids({ a: { $type: 'int' } }), [1, 2]);
    assert.deepEqual(ids({ a: { $type: 'number' } }), [1, 2, 3]);
    assert.deepEqual(ids({ a: { $type: 10 } }), [4], 'numeric type codes: 10 is null');
  });

  it('rejects unknown operators with BadValue', () => {
    assert.throws(
      () => compileFilter({ $frob: 1 }),
      (e: CommandError) => e.code === 2,
    );
    assert.throws(
      () => ids({ a: { $frob: 1 } }),
      (e: CommandError) => e.code === 2 && /unknown operator: \$frob/.test(e.message),
    );
  });

  it('collects equality fields for upserts', () => {
    assert.deepEqual(equalityFields({ a: 1, b: { $gt: 2 }, c: { $eq: 3 }, $and: [{ d: 4 }] }), [
      ['a', 1],
      ['c', 3],
      ['d', 4],
    ]);
  });
});

describe('updates', () => {
  it('applies operators and keeps integer types', () => {
    const out = applyOperators(
      { _id: 1, n: new Int32(1), list: [1] },
      { $inc: { n: 2 }, $set: { 'x.y': true }, $push: { list: 2 }, $unset: { gone: '' } },
      false,
    );
    assert.deepEqual(out, { _id: 1, n: new Int32(3), list: [1, 2], x: { y: true } });
    assert.ok(out.n instanceof Int32);
    const d = applyOperators({ _id: 1, n: new Int32(1) }, { $inc: { n: 0.5 } }, false);
    assert.ok(d.n instanceof Double);
    assert.deepEqual(
      applyOperators({ _id: 1, s: [1, 2, 3] }, { $pull: { s: 2 }, $addToSet: { t: 1 } }, false),
      { _id: 1, s: [1, 3], t: [1] },
    );
    assert.deepEqual(applyOperators({ _id: 1 }, { $setOnInsert: { a: 1 } }, false), { _id: 1 });
    assert.deepEqual(applyOperators({ _id: 1 }, { $setOnInsert: { a: 1 } }, true), { _id: 1, a: 1 });
  });

  it('refuses _id changes, mixed documents and bad $inc with the real codes', () => {
    assert.throws(
      () => applyOperators({ _id: 1 }, { $set: { _id: 2 } }, false),
      (e: CommandError) => e.code === 66,
    );
    assert.throws(
      () => applyReplacement({ _id: 1 }, { _id: 2, a: 1 }),
      (e: CommandError) => e.code === 66,
    );
    assert.throws(
      () => checkUpdateShape({ $set: { a: 1 }, b: 2 }),
      (e: CommandError) => e.code === 9,
    );
    assert.throws(
      () => applyOperators({ _id: 1, s: 'x' }, { $inc: { s: 1 } }, false),
      (e: CommandError) => e.code === 14,
    );
    assert.deepEqual(applyReplacement({ _id: 1, a: 1 }, { b: 2 }), { _id: 1, b: 2 });
  });
});

describe('projection, sort and value order', () => {
  it('projects inclusions and exclusions and refuses a mix', () => {
    const doc = { _id: 1, a: 1, b: { c: 2, d: 3 } };
    assert.deepEqual(compileProjection({ a: 1 })?.(doc), { _id: 1, a: 1 });
    assert.deepEqual(compileProjection({ 'b.c': 1, _id: 0 })?.(doc), { b: { c: 2 } });
    assert.deepEqual(compileProjection({ b: 0 })?.(doc), { _id: 1, a: 1 });
    assert.throws(
      () => compileProjection({ a: 1, b: 0 }),
      (e: CommandError) => e.code === 31254,
    );
  });

  it('sorts across types in BSON order', () => {
    const values = ['s', 2, null, { a: 1 }, true, new Int32(1)];
    const sorted = [...values].sort(compareValues);
    assert.deepEqual(sorted, [null, new Int32(1), 2, 's', { a: 1 }, true]);
    const cmp = compileSort({ a: -1 });
    assert.deepEqual(
      [{ a: 1 }, { a: 3 }, { a: 2 }].sort(cmp).map((d) => d.a),
      [3, 2, 1],
    );
    assert.equal(idKey(new Int32(1)), idKey(new Double(1)), 'numerically equal _ids collide');
    assert.notEqual(idKey('1'), idKey(1));
  });
});
