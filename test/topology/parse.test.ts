// parseTopology: YAML syntax errors and schema problems with their positions; YAML features that must work.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineCounter, parseDocument } from 'yaml';
import { formatIssue } from '../../src/topology/issues.js';
import { parseTopology } from '../../src/topology/parse.js';
import { locate } from '../../src/topology/positions.js';

const lines = (text: string) => parseTopology(text, 'p.yaml').issues.map(formatIssue);

describe('parseTopology', () => {
  test('a valid file parses with no issues', () => {
    const result = parseTopology('mongod_servers:\n  - host: localhost\n    port: 0\n', 'p.yaml');
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.parsed?.spec, { mongod_servers: [{ host: 'localhost', port: 0 }] });
  });

  test('anchors and aliases work, as in any YAML', () => {
    const result = parseTopology(
      'server_configs:\n  mongod: &common { net.bindIp: 127.0.0.1 }\n  mongos: *common\nmongod_servers:\n  - { host: h, port: 1 }\n',
      'p.yaml',
    );
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.parsed?.spec.server_configs?.mongos, { 'net.bindIp': '127.0.0.1' });
  });

  test('more than one YAML document is a syntax error', () => {
    const found = lines('mongod_servers: []\n---\nmongod_servers: []\n');
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /^p\.yaml:2:1 {2}.*\(YAML syntax\)$/);
  });

  test('a tab used for indentation is a syntax error with its position', () => {
    const found = lines('mongod_servers:\n\t- host: h\n');
    assert.ok(found.length >= 1);
    assert.match(found[0] ?? '', /^p\.yaml:2:1 {2}.*\(YAML syntax\)$/);
  });

  test('null where a list is expected names what was found', () => {
    assert.deepEqual(lines('mongod_servers:\n'), [
      'p.yaml:1:1  mongod_servers: must be a list, got an empty value (type)',
    ]);
  });

  test('unknown keys are reported but the rest of the document is still returned', () => {
    const result = parseTopology('mongod_servers:\n  - { host: h, port: 1, colour: red }\n', 'p.yaml');
    assert.deepEqual(result.issues.map(formatIssue), [
      'p.yaml:2:25  mongod_servers.0.colour: unknown key (allowed: host, port, replica_set, priority, votes, hidden, arbiter_only, secondary_delay_secs, tags, build_indexes, deploy_dir, data_dir, log_dir, config_dir, config)',
    ]);
    assert.deepEqual(result.parsed?.spec, { mongod_servers: [{ host: 'h', port: 1 }] });
  });

  test('other schema problems return no document', () => {
    const result = parseTopology('mongod_servers:\n  - { host: h, port: x, colour: red }\n', 'p.yaml');
    assert.equal(result.parsed, undefined);
    assert.equal(result.issues.length, 2);
  });

  test('a tag value must be a string', () => {
    assert.deepEqual(
      lines('mongod_servers:\n  - { host: h, port: 1, replica_set: a, tags: { rack: 1 } }\n'),
      ['p.yaml:2:55  mongod_servers.0.tags.rack: must be a string, got the number 1 (type)'],
    );
  });
});

describe('locate', () => {
  const text = 'a:\n  b:\n    - x: 1\n    - { y: 2 }\n';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });

  test('values and keys in block and flow collections', () => {
    assert.deepEqual(locate(doc, lineCounter, ['a', 'b', 0, 'x']), { line: 3, col: 10 });
    assert.deepEqual(locate(doc, lineCounter, ['a', 'b', 0, 'x'], true), { line: 3, col: 7 });
    assert.deepEqual(locate(doc, lineCounter, ['a', 'b', 1, 'y']), { line: 4, col: 12 });
  });

  test('a missing key points at the mapping that lacks it', () => {
    assert.deepEqual(locate(doc, lineCounter, ['a', 'b', 1, 'z']), { line: 4, col: 7 });
    assert.deepEqual(locate(doc, lineCounter, ['a', 'b', 5]), { line: 3, col: 5 });
    assert.deepEqual(locate(doc, lineCounter, ['nope']), { line: 1, col: 1 });
  });
});
