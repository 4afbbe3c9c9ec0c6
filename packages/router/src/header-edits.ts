/**
 * Applying a `route` decision's header edits (`HeaderEdits` in @slipway/core). Only requests
 * whose decision carries edits come here, so a request without them pays nothing. Framing and
 * hop-by-hop names are never edited (a tap cannot break the message framing); the router's own
 * headers are dropped and re-added later by `forwarded-headers.ts`, so edits to them are moot.
 */
import type { HeaderEdits } from '@slipway/core';

/** Names a tap may not set or remove, in either direction. */
export const FRAMING = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** The client's raw `[name, value, …]` request headers with the decision's edits applied. */
export function editRequestHeaders(
  raw: readonly string[],
  edits: NonNullable<HeaderEdits['requestHeaders']>,
): string[] {
  const drop = new Set<string>();
  for (const n of edits.remove ?? []) drop.add(n.toLowerCase());
  const set = Object.entries(edits.set ?? {}).filter(([n]) => !FRAMING.has(n.toLowerCase()));
  const setNames = new Set(set.map(([n]) => n.toLowerCase()));
  for (const n of setNames) drop.add(n);
  for (const n of FRAMING) drop.delete(n);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (drop.has(lower)) continue;
    // A set header named in `Connection` would be dropped as hop by hop with the client's copy:
    // the client could undo an edit. Only the client's copy goes (above); the token goes too.
    if (set.length > 0 && lower === 'connection') {
      const tokens = raw[i + 1]!.split(',').filter((t) => !setNames.has(t.trim().toLowerCase()));
      out.push(name, tokens.join(','));
    } else out.push(name, raw[i + 1]!);
  }
  for (const [n, v] of set) out.push(n, v);
  return out;
}

/** Response headers (flat list) with the decision's `responseHeaders` replacing same-named ones. */
export function editResponseHeaders(flat: string[], add: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(add).filter((n) => !FRAMING.has(n.toLowerCase()));
  if (names.length === 0) return flat;
  const lower = new Set(names.map((n) => n.toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (!lower.has(flat[i]!.toLowerCase())) out.push(flat[i]!, flat[i + 1]!);
  }
  for (const n of names) out.push(n, add[n]!);
  return out;
}
