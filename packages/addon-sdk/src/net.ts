/**
 * Loopback port helpers for providers that start their own servers: where to connect, and
 * whether a port is free (`freePort` itself is core's, re-exported by this package's index).
 */
import { createServer } from 'node:net';

/** Where the platform reaches a server listening on `listen`: loopback when it listens on every address. */
export function connectHost(listen: string): string {
  return listen === '0.0.0.0' ? '127.0.0.1' : listen;
}

/** True when nothing listens on host:port (a listen attempt succeeds). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
