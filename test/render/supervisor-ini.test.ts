import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  chooseMinfds,
  programAutostart,
  renderSupervisorIni,
  SupervisorIniError,
  type SupervisorIniSpec,
  supervisorIniSpecForHost,
  withProgramAutostart,
} from '../../src/render/supervisor-ini.js';
import { assertGoldenFile } from '../helpers/golden.js';
import { instance, shardedInstances } from './supervisor-ini-fixtures.js';

const goldenDir = join(import.meta.dirname, 'golden');

async function assertGolden(name: string, actual: string): Promise<void> {
  await assertGoldenFile(join(goldenDir, name), actual);
}

function spec(overrides: Partial<SupervisorIniSpec> = {}): SupervisorIniSpec {
  return {
    ...supervisorIniSpecForHost({
      cluster: 'prod',
      supervisorDir: '/srv/mongo-deploy/supervisor',
      httpPort: 9001,
      username: 'mup',
      password: 's3cret',
      minfds: 64000,
      instances: shardedInstances('/srv/mongo-deploy'),
    }),
    ...overrides,
  };
}

/** Parses the rendered ini back into sections (the way supervisord's ConfigParser sees it, minus expansion). */
function parse(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current !== undefined && eq > 0, `unexpected line ${line}`);
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}

describe('renderSupervisorIni', () => {
  it('matches the golden file for a sharded host without groups', async () => {
    await assertGolden('supervisor.golden.ini', renderSupervisorIni(spec()));
  });

  it('matches the golden file with a group per replica set and one for mongos', async () => {
    const grouped = supervisorIniSpecForHost({
      cluster: 'prod',
      supervisorDir: '/srv/mongo-deploy/supervisor',
      httpPort: 9001,
      username: 'mup',
      password: 's3cret',
      minfds: 20000,
      startsecs: 1,
      groupBy: 'replicaSet',
      instances: shardedInstances('/srv/mongo-deploy'),
    });
    assert.deepEqual(grouped.groups, [
      { name: 'cfg', programs: ['config-30000'] },
      { name: 'shard1', programs: ['mongod-30001', 'mongod-30002'] },
      { name: 'mongos', programs: ['mongos-30010'] },
    ]);
    await assertGolden('supervisor-grouped.golden.ini', renderSupervisorIni(grouped));
  });

  it('is deterministic', () => {
    assert.equal(renderSupervisorIni(spec()), renderSupervisorIni(spec()));
  });

  it('binds the API to loopback with a {SHA} password and gives supervisorctl the plain one', () => {
    const sections = parse(renderSupervisorIni(spec()));
    const http = sections.get('inet_http_server');
    assert.equal(http?.get('port'), '127.0.0.1:9001');
    assert.equal(http?.get('password'), `{SHA}${createHash('sha1').update('s3cret').digest('hex')}`);
    assert.equal(sections.get('supervisorctl')?.get('serverurl'), 'http://127.0.0.1:9001');
    assert.equal(sections.get('supervisorctl')?.get('password'), 's3cret');
    assert.equal(sections.get('supervisord')?.get('identifier'), 'mup-prod');
    assert.equal(sections.get('supervisord')?.get('nodaemon'), 'false');
  });

  it('runs mongos for mongos programs and mongod for config servers and shards', () => {
    const sections = parse(renderSupervisorIni(spec()));
    assert.equal(
      sections.get('program:mongos-30010')?.get('command'),
      '/srv/mongo-deploy/mongos-30010/bin/mongos --config /srv/mongo-deploy/mongos-30010/conf/mongos.conf',
    );
    assert.equal(
      sections.get('program:config-30000')?.get('command'),
      '/srv/mongo-deploy/config-30000/bin/mongod --config /srv/mongo-deploy/config-30000/conf/config.conf',
    );
    const program = sections.get('program:mongod-30001');
    assert.equal(program?.get('autostart'), 'false');
    assert.equal(program?.get('autorestart'), 'unexpected');
    assert.equal(program?.get('startsecs'), '5');
    assert.equal(program?.get('stdout_logfile'), '/srv/mongo-deploy/mongod-30001/log/mongod-30001.out');
  });

  it('writes autostart=true for the programs named as the desired state, and reads it back', () => {
    const text = renderSupervisorIni(
      supervisorIniSpecForHost({
        ...base(),
        instances: shardedInstances('/srv/mongo-deploy'),
        autostart: ['mongod-30001', 'mongos-30010'],
      }),
    );
    const sections = parse(text);
    assert.equal(sections.get('program:mongod-30001')?.get('autostart'), 'true');
    assert.equal(sections.get('program:mongos-30010')?.get('autostart'), 'true');
    assert.equal(sections.get('program:config-30000')?.get('autostart'), 'false');
    const read = programAutostart(text);
    assert.equal(read.get('mongod-30001'), true);
    assert.equal(read.get('config-30000'), false);
    // Rewriting only autostart: every other byte stays.
    const flipped = withProgramAutostart(text, new Map([['mongod-30001', false]]));
    assert.equal(programAutostart(flipped).get('mongod-30001'), false);
    assert.equal(programAutostart(flipped).get('mongos-30010'), true);
    assert.equal(
      flipped,
      text.replace(/(\[program:mongod-30001\][^[]*?)autostart=true/, '$1autostart=false'),
    );
    // supervisord's spellings, and its default (true) when the key is absent.
    assert.deepEqual(
      [
        ...programAutostart(
          '[program:a]\nautostart = Yes\n[program:b]\nautostart=off\n[program:c]\ncommand=x\n',
        ),
      ],
      [
        ['a', true],
        ['b', false],
        ['c', true],
      ],
    );
  });

  it('escapes % and quotes arguments with blanks', () => {
    const odd = instance('mongod', 30001, "/srv/100% it's here");
    const text = renderSupervisorIni(
      spec({ programs: supervisorIniSpecForHost({ ...base(), instances: [odd] }).programs, groups: [] }),
    );
    const program = parse(text).get('program:mongod-30001');
    assert.equal(
      program?.get('command'),
      `'/srv/100%% it'"'"'s here/mongod-30001/bin/mongod' --config '/srv/100%% it'"'"'s here/mongod-30001/conf/mongod.conf'`,
    );
    assert.equal(program?.get('directory'), "/srv/100%% it's here/mongod-30001");
  });

  it('rejects values that would break the file', () => {
    assert.throws(() => renderSupervisorIni(spec({ password: 'a\nb' })), SupervisorIniError);
    assert.throws(() => renderSupervisorIni(spec({ supervisorDir: '/srv/x ;comment' })), SupervisorIniError);
    assert.throws(() => renderSupervisorIni(spec({ cluster: 'a]b' })), SupervisorIniError);
    assert.throws(() => renderSupervisorIni(spec({ username: 'a:b' })), SupervisorIniError);
    assert.throws(() => renderSupervisorIni(spec({ httpPort: 70000 })), SupervisorIniError);
    const programs = spec().programs;
    const first = programs[0];
    assert.ok(first !== undefined);
    assert.throws(() => renderSupervisorIni(spec({ programs: [first, first] })), /defined twice/);
    assert.throws(
      () => renderSupervisorIni(spec({ groups: [{ name: 'rs0', programs: ['nope'] }] })),
      /lists unknown "nope"/,
    );
    assert.throws(
      () => renderSupervisorIni(spec({ groups: [{ name: first.name, programs: [first.name] }] })),
      /has the name of a program/,
    );
  });

  it('starts every program as the host user when given, and refuses a user name that is not one word', () => {
    const base = spec();
    const withUser = supervisorIniSpecForHost({
      cluster: 'prod',
      supervisorDir: '/srv/mongo-deploy/supervisor',
      httpPort: 9001,
      username: 'mup',
      password: 's3cret',
      minfds: 64000,
      instances: shardedInstances('/srv/mongo-deploy'),
      user: 'mongodb',
    });
    const sections = parse(renderSupervisorIni(withUser));
    const programs = [...sections].filter(([name]) => name.startsWith('program:'));
    assert.equal(programs.length, base.programs.length);
    for (const [, entries] of programs) assert.equal(entries.get('user'), 'mongodb');
    assert.equal(sections.get('supervisord')?.has('user'), false, 'the daemon itself is not switched');
    assert.ok(![...parse(renderSupervisorIni(base))].some(([, e]) => e.has('user')));
    for (const bad of ['mongo db', 'a:b', '', '-x', 'x\ny']) {
      const programsOf = withUser.programs.map((p) => ({ ...p, user: bad }));
      assert.throws(
        () => renderSupervisorIni({ ...withUser, programs: programsOf }),
        SupervisorIniError,
        bad,
      );
    }
  });

  it('keeps minfds within the hard limit', () => {
    assert.equal(chooseMinfds(20000), 20000);
    assert.equal(chooseMinfds(1_048_576), 64000);
    assert.equal(chooseMinfds('unlimited'), 64000);
  });
});

function base() {
  return {
    cluster: 'prod',
    supervisorDir: '/srv/mongo-deploy/supervisor',
    httpPort: 9001,
    username: 'mup',
    password: 's3cret',
    minfds: 64000,
  };
}
