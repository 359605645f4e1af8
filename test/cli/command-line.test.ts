import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditCommandLine, maskSecrets, quoteArgument } from '../../src/cli/command-line.js';

test('options named like a secret have their value masked, in either spelling', () => {
  assert.deepEqual(maskSecrets(['cluster', 'deploy', 'p', '--password', 'hunter2', '--yes']), [
    'cluster',
    'deploy',
    'p',
    '--password',
    '***',
    '--yes',
  ]);
  assert.deepEqual(maskSecrets(['--password=hunter2']), ['--password=***']);
  assert.deepEqual(
    maskSecrets(['--tlsCertificateKeyFilePassword', 'k', '--api-token=t', '--client-secret', 's']),
    ['--tlsCertificateKeyFilePassword', '***', '--api-token=***', '--client-secret', '***'],
  );
});

test('-p is a password only after --; before it mup’s own arguments stay as typed', () => {
  assert.deepEqual(maskSecrets(['-p', '30000', '--', 'mongosh', '-u', 'admin', '-p', 'hunter2']), [
    '-p',
    '30000',
    '--',
    'mongosh',
    '-u',
    'admin',
    '-p',
    '***',
  ]);
});

test('the password of a URI with credentials is masked, the user and host kept', () => {
  assert.deepEqual(maskSecrets(['--mirror', 'https://me:hunter2@mirror.example/mongodb/']), [
    '--mirror',
    'https://me:***@mirror.example/mongodb/',
  ]);
  assert.deepEqual(
    maskSecrets(['--', 'mongosh', 'mongodb://admin:s3cret@localhost:30000/?authSource=admin']),
    ['--', 'mongosh', 'mongodb://admin:***@localhost:30000/?authSource=admin'],
  );
  // No credentials: nothing to hide.
  assert.deepEqual(maskSecrets(['mongodb://localhost:30000/']), ['mongodb://localhost:30000/']);
});

test('the audit line quotes what a shell would split, and never holds the secret', () => {
  assert.equal(quoteArgument('localhost:30001'), 'localhost:30001');
  assert.equal(quoteArgument('a b'), "'a b'");
  assert.equal(quoteArgument("it's"), "'it'\\''s'");
  assert.equal(quoteArgument(''), "''");
  const line = auditCommandLine([
    'cluster',
    'exec',
    'prod',
    '--',
    'sh',
    '-c',
    'echo $HOME',
    '--password',
    'pw1',
  ]);
  assert.equal(line, "mup cluster exec prod -- sh -c 'echo $HOME' --password ***");
  assert.doesNotMatch(line, /pw1/);
});
