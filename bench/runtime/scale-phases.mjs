// Where the time of a `ps:scale web=N` goes, per dyno and per phase, on any runtime: when the
// runtime handed the dyno back (its `start()` resolved, seen in the manager's status), when the
// router got it (its address in the route table: the boot check passed); on Docker also the
// engine's own timestamps from `docker events` (container create, network connect, start).
// Every time is in ms since the scale request; each phase is summarised as first / median / last.

/** Start watching; `stop()` ends it and returns the per-phase summary (and the raw per-dyno times). */
export async function watchScale({ p }, app, t0, { docker, platformId } = {}) {
  const dynos = new Map(); // id -> { handle, routed, create, connect, start }
  const byAddr = new Map();
  const of = (id) => {
    if (!dynos.has(id)) dynos.set(id, {});
    return dynos.get(id);
  };
  const table = p.dynos.routeTable();
  let timer;
  const poll = () => {
    const now = performance.now() - t0;
    for (const s of p.dynos.status(app)) {
      if (!s.id) continue;
      const d = of(s.id);
      d.handle ??= now;
      if (s.host && s.port) byAddr.set(`${s.host}:${s.port}`, d);
    }
    for (const t of table.route(app)?.targets ?? []) {
      const d = byAddr.get(`${t.host}:${t.port}`);
      if (d) d.routed ??= now;
    }
    timer = setTimeout(poll, 25);
  };
  poll();

  // The engine's clock is the host's (same machine): its event times map onto ours by the offset
  // between performance.now() and Date.now(), taken once.
  let events;
  const epochT0 = Date.now() - (performance.now() - t0);
  if (docker) {
    events = await docker.getEvents({
      since: Math.floor(epochT0 / 1000) - 1,
      filters: { type: ['container', 'network'] },
    });
    let buf = '';
    events.on('data', (chunk) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let ev;
        try {
          ev = JSON.parse(line);
        } catch {
          continue;
        }
        const at = ev.timeNano / 1e6 - epochT0;
        if (at < 0) continue;
        const attrs = ev.Actor?.Attributes ?? {};
        if (
          ev.Type === 'container' &&
          attrs['slipway.platform'] === platformId &&
          attrs['slipway.app'] === app
        ) {
          if (ev.Action === 'create' || ev.Action === 'start') of(ev.id)[ev.Action] ??= at;
        } else if (ev.Type === 'network' && ev.Action === 'connect' && attrs.container) {
          const d = dynos.get(attrs.container);
          if (d) d.connect ??= at;
        }
      }
    });
    events.on('error', () => {});
  }

  return {
    stop() {
      clearTimeout(timer);
      events?.destroy?.();
      const fresh = [...dynos.values()].filter((d) => d.routed !== undefined || d.create !== undefined);
      const phases = {};
      for (const k of ['create', 'connect', 'start', 'handle', 'routed']) {
        const xs = fresh
          .map((d) => d[k])
          .filter((x) => x !== undefined)
          .sort((a, b) => a - b);
        if (xs.length)
          phases[k] = { n: xs.length, first: xs[0], med: xs[xs.length >> 1], last: xs[xs.length - 1] };
      }
      // Per dyno: engine start → routed is the app's boot plus the boot check's detection.
      const boot = fresh
        .filter((d) => d.start !== undefined && d.routed !== undefined)
        .map((d) => d.routed - d.start)
        .sort((a, b) => a - b);
      if (boot.length)
        phases['start→routed'] = {
          n: boot.length,
          first: boot[0],
          med: boot[boot.length >> 1],
          last: boot[boot.length - 1],
        };
      return phases;
    },
  };
}

/** One line per phase: `create   n=100 first 12 ms, median 4200 ms, last 9100 ms`. */
export function formatPhases(phases) {
  return Object.entries(phases)
    .map(
      ([k, v]) =>
        `    ${k.padEnd(14)} n=${String(v.n).padEnd(4)} first ${v.first.toFixed(0).padStart(6)} ms, median ${v.med.toFixed(0).padStart(6)} ms, last ${v.last.toFixed(0).padStart(6)} ms`,
    )
    .join('\n');
}
