/**
 * What the router needs to know about apps and their web dynos. The runtime implements it
 * from its dyno table; tests implement it with real backend servers. Lookups are synchronous
 * and cheap: they run on every request.
 */

/** One web dyno the router may send requests to. */
export interface RouteTarget {
  /** Dyno name for the log line: `web.1`. */
  dyno: string;
  host: string;
  port: number;
}

/** The router's view of one app. */
export interface AppRoute {
  app: string;
  /**
   * `ok`: has targets. `no-release`: nothing deployed yet (H81). `no-web`: released but no web
   * dynos scaled (H14). `crashed`: web dynos exist but none is up (H10). `booting`: web dynos
   * are starting, none up yet (H20 if it lasts).
   */
  state: 'ok' | 'no-release' | 'no-web' | 'crashed' | 'booting';
  /** Up web dynos; a dyno removed from this list gets no new requests (draining). */
  targets: readonly RouteTarget[];
}

/** Host → app and app → dynos, as the platform knows them now. */
export interface RouteTable {
  /** App serving this host (already lower-cased, without port or trailing dot), if any. */
  appForHost(host: string): string | undefined;
  /** Current route of an app, or undefined when no such app exists. */
  route(app: string): AppRoute | undefined;
  /**
   * Call `listener` whenever a route may have changed. Optional: the Node router reads the
   * table per request; the HAProxy data plane pushes, and applies at once what it hears here
   * (else on its next poll). A listener may return a promise settled once its data plane
   * serves the change: the platform waits for it before it stops the dynos it took out.
   */
  onChange?(listener: () => unknown): void;
}
