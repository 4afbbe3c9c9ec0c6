/**
 * The swarm's nodes as the Swarm runtime sees them (a name for `ps`, whether a node is down,
 * whether new dynos may go there) and where a new dyno goes. Swarm alone spreads by tasks per
 * service; with a service per dyno, a start-first deploy would move every dyno to whichever node
 * the old release left emptier. So the runtime picks the node itself: the one (ready, not
 * drained) with the fewest dynos of the same app, type and release, then the fewest dynos, which
 * keeps each release spread over the nodes.
 */
import type Docker from 'dockerode';

/** A dyno as placement counts it: running, or placed and not running yet. */
export interface PlacedDyno {
  nodeId?: string;
  app: string;
  type: string;
  release: number;
}

/** The nodes, read from the manager's engine. */
export class SwarmNodes {
  private readonly nodes = new Map<
    string,
    { name: string; host: string; addr: string; up: boolean; placeable: boolean }
  >();

  constructor(private readonly docker: Docker) {}

  /** Read the nodes again. */
  async refresh(): Promise<void> {
    const nodes = (await this.docker.listNodes()) as {
      ID: string;
      Description?: { Hostname?: string };
      Status?: { State?: string; Addr?: string };
      Spec?: { Labels?: Record<string, string>; Availability?: string };
    }[];
    const hosts = new Map<string, number>();
    for (const n of nodes) {
      const h = n.Description?.Hostname ?? '';
      hosts.set(h, (hosts.get(h) ?? 0) + 1);
    }
    for (const n of nodes) {
      const host = n.Description?.Hostname ?? '';
      // Two engines on one host (or cloned machines) share a hostname: then the address names the node.
      const name =
        n.Spec?.Labels?.['slipway.name'] ?? ((hosts.get(host) ?? 0) > 1 ? `${host}@${n.Status?.Addr}` : host);
      this.nodes.set(n.ID, {
        name,
        host,
        addr: n.Status?.Addr ?? '',
        up: n.Status?.State !== 'down',
        placeable: n.Status?.State === 'ready' && (n.Spec?.Availability ?? 'active') === 'active',
      });
    }
  }

  /** The name `ps` shows for a node (its hostname, or hostname@address when hostnames repeat). */
  name(id: string): string {
    return this.nodes.get(id)?.name ?? id.slice(0, 12);
  }

  /** Whether Swarm reports the node down (its dynos are lost). */
  isDown(id: string): boolean {
    return this.nodes.get(id)?.up === false;
  }

  /**
   * The node `want` names (its id or a unique prefix of it, its `ps` name, hostname or address):
   * its id, or why none fits (unknown, ambiguous, down or not active).
   */
  find(want: string): { id: string } | { why: string } {
    const hits = [...this.nodes].filter(
      ([id, n]) =>
        id === want ||
        (want.length >= 6 && id.startsWith(want)) ||
        n.name === want ||
        n.host === want ||
        n.addr === want,
    );
    if (hits.length === 0) return { why: 'no such node' };
    if (hits.length > 1) return { why: `${hits.length} nodes answer to that name; use the node's id` };
    const [id, n] = hits[0]!;
    return n.placeable ? { id } : { why: n.up ? 'the node is drained or paused' : 'the node is down' };
  }

  /** The ids and names of the nodes new dynos may go to, for messages. */
  placeable(): string {
    return [...this.nodes]
      .filter(([, n]) => n.placeable)
      .map(([id, n]) => `${n.name} (${id.slice(0, 12)})`)
      .join(', ');
  }

  /** The node a new dyno of `spec` goes to, given the dynos already placed; none with fewer than two nodes to choose from. */
  choose(spec: PlacedDyno, placed: Iterable<PlacedDyno>): string | undefined {
    const score = new Map<string, [number, number]>();
    for (const [id, n] of this.nodes) if (n.placeable) score.set(id, [0, 0]);
    if (score.size < 2) return undefined;
    for (const d of placed) {
      const s = d.nodeId ? score.get(d.nodeId) : undefined;
      if (!s) continue;
      if (d.app === spec.app && d.type === spec.type && d.release === spec.release) s[0]++;
      s[1]++;
    }
    return [...score].sort(([, a], [, b]) => a[0] - b[0] || a[1] - b[1])[0]?.[0];
  }
}
