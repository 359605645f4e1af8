// replSetInitiate and the config server role: `configsvr: true` is required on --configsvr nodes and
// refused elsewhere (93 InvalidReplicaSetConfig); a bare replSetInitiate on a config server builds a
// default config that is marked configsvr.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { ShardedClusterFixture } from './cluster.js';

describe('replSetInitiate on config servers (7.0)', { timeout: 60_000 }, () => {
  const fx = new ShardedClusterFixture('7.0.14');
  before(async () => {
    await fx.init();
  });
  after(async () => {
    await fx.close();
  });

  const rejects93 = async (p: Promise<unknown>, text: RegExp): Promise<void> => {
    await assert.rejects(p, (err: Document) => {
      assert.equal(err.code, 93);
      assert.equal(err.codeName, 'InvalidReplicaSetConfig');
      assert.match(String(err.message), text);
      return true;
    });
  };

  it('a --configsvr node needs configsvr:true; other nodes must not have it', async () => {
    const cfg = await fx.startSet('cfgA', 1, ['--configsvr'], {}, false);
    const host = `127.0.0.1:${cfg.ports[0]}`;
    await rejects93(
      fx.command(cfg.ports[0] as number, {
        replSetInitiate: { _id: 'cfgA', version: 1, members: [{ _id: 0, host }] },
      }),
      /Nodes started with the --configsvr flag must have configsvr:true in their config/,
    );
    const plain = await fx.startSet('plainA', 1, [], {}, false);
    await rejects93(
      fx.command(plain.ports[0] as number, {
        replSetInitiate: {
          _id: 'plainA',
          configsvr: true,
          members: [{ _id: 0, host: `127.0.0.1:${plain.ports[0]}` }],
        },
      }),
      /Nodes being used for config servers must be started with the --configsvr flag/,
    );
    await fx.command(cfg.ports[0] as number, {
      replSetInitiate: { _id: 'cfgA', version: 1, configsvr: true, members: [{ _id: 0, host }] },
    });
    await fx.waitForPrimary(cfg);
    const conf = await fx.command(cfg.ports[0] as number, { replSetGetConfig: 1 });
    assert.equal(conf.config.configsvr, true);
  });

  it('a bare replSetInitiate on a config server uses a default config marked configsvr', async () => {
    const cfg = await fx.startSet('cfgB', 1, ['--configsvr'], {}, false);
    const reply = await fx.command(cfg.ports[0] as number, { replSetInitiate: {} });
    assert.match(String(reply.info2), /no configuration specified/);
    const conf = await fx.command(cfg.ports[0] as number, { replSetGetConfig: 1 });
    assert.equal(conf.config.configsvr, true);
  });
});
