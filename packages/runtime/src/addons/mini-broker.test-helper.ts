/** A minimal real Open Service Broker (HTTP on loopback) for the tests of OSB providers. */
import { createServer, type Server } from 'node:http';

/** A synchronous OSB broker offering one `queue` service; records live instances and bindings. */
export function miniBroker(live: Set<string>): Server {
  const auth = `Basic ${Buffer.from('osb:osb-secret').toString('base64')}`;
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== auth) return send(401, {});
    const path = new URL(req.url ?? '/', 'http://b').pathname;
    if (req.method === 'GET' && path === '/v2/catalog')
      return send(200, {
        services: [
          {
            id: 'svc-queue',
            name: 'queue',
            description: 'A queue',
            bindable: true,
            plans: [
              { id: 'p-small', name: 'small' },
              { id: 'p-big', name: 'big' },
            ],
          },
        ],
      });
    const m = /^\/v2\/service_instances\/([^/]+)(\/service_bindings\/([^/]+))?$/.exec(path);
    if (!m) return send(404, {});
    const key = m[3] ? `binding:${m[3]}` : `instance:${m[1]}`;
    if (req.method === 'PUT') {
      live.add(key);
      return send(201, m[3] ? { credentials: { uri: `amqp://u:p@queue.test/${m[1]}`, vhost: m[1] } } : {});
    }
    if (req.method === 'DELETE') return send(live.delete(key) ? 200 : 410, {});
    return send(405, {});
  });
}
