import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Kernel } from '@slipway/core';
import { expect } from 'chai';
import { basicAuth } from './http-util.js';
import { credentialsToConfig, osbBroker } from './osb-broker.js';

/**
 * An Open Service Broker written for these tests: a real HTTP server with an in-memory store,
 * asynchronous provision/deprovision (last_operation turns `succeeded` after two polls),
 * synchronous bind/unbind, and the version header and Basic auth checked on every request.
 */
function testBroker(user: string, password: string) {
  const instances = new Map<
    string,
    { plan: string; polls: number; op: 'provision' | 'deprovision' | 'update'; params: any }
  >();
  const bindings = new Map<string, string>();
  const seen: string[] = [];
  const catalog = {
    services: [
      {
        id: 'svc-mq',
        name: 'rabbit',
        description: 'Message queue',
        bindable: true,
        plans: [
          { id: 'plan-small', name: 'small', description: 'Small' },
          { id: 'plan-big', name: 'big' },
        ],
      },
      { id: 'svc-other', name: 'other', bindable: true, plans: [{ id: 'p-o', name: 'only' }] },
    ],
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers['x-broker-api-version'] !== '2.17') return send(res, 412, { description: 'need 2.17' });
    if (req.headers.authorization !== basicAuth(user, password)) return send(res, 401, {});
    const body = text ? JSON.parse(text) : {};
    const m = /^\/v2\/service_instances\/([^/]+)(?:\/(last_operation|service_bindings\/([^/]+)))?$/.exec(
      url.pathname,
    );
    if (url.pathname === '/v2/catalog' && req.method === 'GET') return send(res, 200, catalog);
    if (!m) return send(res, 404, { description: 'no route' });
    const [, iid, sub, bid] = m as unknown as [string, string, string | undefined, string | undefined];
    const inst = instances.get(iid);
    if (sub === 'last_operation') {
      if (!inst) return send(res, 410, {});
      if (url.searchParams.get('operation') !== `${inst.op}-${iid}`)
        return send(res, 400, { description: 'bad operation' });
      inst.polls++;
      if (inst.polls < 2) return send(res, 200, { state: 'in progress' });
      if (inst.op === 'deprovision') {
        instances.delete(iid);
        return send(res, 410, {});
      }
      if (inst.params?.fail) return send(res, 200, { state: 'failed', description: 'disk full' });
      return send(res, 200, { state: 'succeeded' });
    }
    if (bid) {
      if (req.method === 'PUT') {
        if (!inst) return send(res, 404, {});
        bindings.set(bid, iid);
        return send(res, 201, {
          credentials: {
            uri: `amqp://u-${bid}:pw-${bid}@127.0.0.1:5672/${iid}`,
            username: `u-${bid}`,
            password: `pw-${bid}`,
            port: 5672,
            'vhost-name': iid,
            nested: { ignored: true },
          },
        });
      }
      if (req.method === 'DELETE') return bindings.delete(bid) ? send(res, 200, {}) : send(res, 410, {});
    }
    if (req.method === 'PUT') {
      if (url.searchParams.get('accepts_incomplete') !== 'true')
        return send(res, 422, { error: 'AsyncRequired' });
      if (inst) return send(res, 200, {});
      instances.set(iid, { plan: body.plan_id, polls: 0, op: 'provision', params: body.parameters });
      return send(res, 202, { operation: `provision-${iid}` });
    }
    if (req.method === 'PATCH') {
      if (!inst) return send(res, 404, {});
      // Stricter than OSB asks: the platform must know the plan the instance is on.
      if (body.previous_values?.plan_id !== inst.plan)
        return send(res, 400, { description: `instance is on ${inst.plan}` });
      inst.plan = body.plan_id;
      return send(res, 200, {});
    }
    if (req.method === 'DELETE') {
      if (!inst) return send(res, 410, {});
      if (!url.searchParams.get('plan_id') || !url.searchParams.get('service_id'))
        return send(res, 400, { description: 'need ids' });
      inst.op = 'deprovision';
      inst.polls = 0;
      return send(res, 202, { operation: `deprovision-${iid}` });
    }
    return send(res, 405, {});
  };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => handle(req, res, text));
  });
  return { server, instances, bindings, seen };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('addon-sdk osbBroker against a real test broker', function () {
  this.timeout(30_000);
  const broker = testBroker('admin', 'broker-pass');
  let url: string;
  before(async () => {
    url = await listen(broker.server);
  });
  after(() => new Promise((r) => broker.server.close(r)));

  it('maps credentials to config vars by the documented rule', () => {
    expect(
      credentialsToConfig('MQ', {
        url: 'a://h',
        uri: 'b://h',
        'api-key': 'k',
        n: 1,
        ok: true,
        o: {},
        z: null,
      }),
    ).to.deep.equal({ MQ_URL: 'b://h', MQ_API_KEY: 'k', MQ_N: '1', MQ_OK: 'true' });
    expect(credentialsToConfig('DB', { URL: 'pg://h', host: 'h' })).to.deep.equal({
      DB_URL: 'pg://h',
      DB_HOST: 'h',
    });
  });

  it('registers the catalog, provisions async, binds, changes plan, unbinds and deprovisions', async () => {
    const plugin = osbBroker({
      url,
      username: 'admin',
      password: 'broker-pass',
      services: ['rabbit'],
      pollIntervalMs: 20,
    });
    const kernel = new Kernel();
    await kernel.use(plugin);
    expect(plugin.catalog?.map((s) => s.name)).to.deep.equal(['rabbit', 'other']);
    expect([...kernel.catalog.addons.keys()]).to.deep.equal(['rabbit']);
    expect(kernel.catalog.addons.get('rabbit')?.plans).to.deep.equal([
      { name: 'small', description: 'Small', default: true },
      { name: 'big', default: false },
    ]);
    const req = {
      service: 'rabbit',
      plan: 'small',
      uuid: 'inst-1',
      app: 'shop',
      name: 'QUEUE',
      options: { a: 1 },
    };
    const r = await kernel.hooks.provision.for('rabbit').promise(req);
    expect(r!.id).to.equal('inst-1');
    expect(r!.config).to.deep.equal({
      QUEUE_URL: 'amqp://u-inst-1:pw-inst-1@127.0.0.1:5672/inst-1',
      QUEUE_USERNAME: 'u-inst-1',
      QUEUE_PASSWORD: 'pw-inst-1',
      QUEUE_PORT: '5672',
      QUEUE_VHOST_NAME: 'inst-1',
    });
    expect(broker.instances.get('inst-1')?.plan).to.equal('plan-small');
    expect(broker.bindings.get('inst-1')).to.equal('inst-1');
    expect(broker.seen.filter((s) => s.includes('last_operation')).length).to.equal(2);

    const p = await kernel.hooks.planChange
      .for('rabbit')
      .promise({ service: 'rabbit', uuid: 'inst-1', id: 'inst-1', app: 'shop', plan: 'big' });
    expect(p!.config).to.deep.equal(r!.config);
    expect(broker.instances.get('inst-1')?.plan).to.equal('plan-big');

    const d = { service: 'rabbit', uuid: 'inst-1', id: 'inst-1', app: 'shop' };
    await kernel.hooks.deprovision.for('rabbit').promise(d);
    expect(broker.instances.has('inst-1')).to.equal(false);
    expect(broker.bindings.size).to.equal(0);
    expect(
      broker.seen.some(
        (s) => s.startsWith('DELETE /v2/service_instances/inst-1?') && s.includes('plan_id=plan-big'),
      ),
    ).to.equal(true);
    await kernel.hooks.deprovision.for('rabbit').promise(d);
  });

  it('after a platform restart, takes the plans from the request and keeps the config vars it cannot know', async () => {
    const opts = {
      url,
      username: 'admin',
      password: 'broker-pass',
      services: ['rabbit'],
      pollIntervalMs: 20,
    };
    const before = new Kernel();
    await before.use(osbBroker(opts));
    const req = { service: 'rabbit', plan: 'big', uuid: 'inst-r', app: 'shop', name: 'QUEUE', options: {} };
    await before.hooks.provision.for('rabbit').promise(req);
    expect(broker.instances.get('inst-r')?.plan).to.equal('plan-big');

    // A new platform process: the plugin's memory of the instance is gone, the state is not.
    const after = new Kernel();
    await after.use(osbBroker(opts));
    const ids = { service: 'rabbit', uuid: 'inst-r', id: 'inst-r', app: 'shop', name: 'QUEUE' };
    const p = await after.hooks.planChange
      .for('rabbit')
      .promise({ ...ids, plan: 'small', previousPlan: 'big' });
    expect(broker.instances.get('inst-r')?.plan).to.equal('plan-small');
    // No credentials to report: the platform keeps the config vars it has.
    expect(p).to.equal(undefined);
    await after.hooks.deprovision.for('rabbit').promise({ ...ids, plan: 'small' });
    expect(broker.instances.has('inst-r')).to.equal(false);
    expect(
      broker.seen.some(
        (s) => s.startsWith('DELETE /v2/service_instances/inst-r?') && s.includes('plan_id=plan-small'),
      ),
    ).to.equal(true);
  });

  it('reports a failed asynchronous operation with the broker description', async () => {
    const kernel = new Kernel();
    await kernel.use(osbBroker({ url, username: 'admin', password: 'broker-pass', pollIntervalMs: 20 }));
    const err: any = await kernel.hooks.provision
      .for('other')
      .promise({ service: 'other', plan: '', uuid: 'inst-f', app: 'a', name: '', options: { fail: true } })
      .catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_OSB_OPERATION_FAILED');
    expect(err.message).to.contain('disk full').and.contain('other');
  });

  it('refuses wrong credentials with a coded error naming the broker', async () => {
    const err: any = await new Kernel()
      .use(osbBroker({ url, username: 'admin', password: 'wrong', name: 'test-broker' }))
      .catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_OSB_BROKER');
    expect(err.message).to.contain('test-broker').and.contain('401');
  });

  it('treats garbage answers from a broker as a coded error naming it', async () => {
    const answers: Record<string, [number, string]> = {
      '/html/v2/catalog': [200, '<html>hello</html>'],
      '/array/v2/catalog': [200, '[1,2]'],
      '/shape/v2/catalog': [200, '{"services":[{"id":"x","name":"y","plans":[]}]}'],
      '/noservices/v2/catalog': [200, '{"foo":1}'],
      '/oldversion/v2/catalog': [412, '{"description":"only 2.13"}'],
    };
    const garbage = createServer((req, res) => {
      const [status, body] = answers[req.url!] ?? [404, 'nope'];
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(body);
    });
    const base = await listen(garbage);
    try {
      const expected: Record<string, string> = {
        html: 'not a JSON object',
        array: 'not a JSON object',
        shape: 'has no plans',
        noservices: 'no "services" array',
        oldversion: 'does not support API version 2.17 (412)',
      };
      for (const [path, detail] of Object.entries(expected)) {
        const err: any = await new Kernel()
          .use(osbBroker({ url: `${base}/${path}`, username: 'u', password: 'p', name: `garbage-${path}` }))
          .catch((e) => e);
        expect(err.code, path).to.equal('SLIPWAY_ERR_OSB_BROKER');
        expect(err.message, path).to.contain(`garbage-${path}`).and.contain(detail);
      }
    } finally {
      await new Promise((r) => garbage.close(r));
    }
  });
});
