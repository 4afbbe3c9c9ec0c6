/** Turning a failed cargo run's output into one telling line and a kind, so the hint fits the cause. */

/** What went wrong, as far as cargo's output tells. */
export type CargoFailureKind = 'compile' | 'lockfile' | 'dependency' | 'manifest' | 'other';

/** The most telling line of cargo's output, with its kind. */
export function cargoFailure(output: string): { kind: CargoFailureKind; line: string | undefined } {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const lock = lines.find((l) => /lock file .*needs to be updated|cannot update the lock file/i.test(l));
  if (lock) return { kind: 'lockfile', line: lock };
  const dep = lines.find((l) =>
    /no matching package named|failed to select a version|failed to get `[^`]+` as a dependency|failed to download|failed to fetch|could not find `[^`]+` in registry/i.test(
      l,
    ),
  );
  if (dep) return { kind: 'dependency', line: dep };
  const manifest = lines.find((l) =>
    /failed to parse manifest|could not parse input as TOML|TOML parse error/i.test(l),
  );
  if (manifest) {
    const detail = lines[lines.indexOf(manifest) + 1];
    return { kind: 'manifest', line: detail ? `${manifest} ${detail}` : manifest };
  }
  const rustError = lines.findIndex(
    (l) => /^error(\[E\d+\])?: /.test(l) && !/^error: could not compile/.test(l),
  );
  if (rustError >= 0) {
    const at = lines.slice(rustError + 1, rustError + 3).find((l) => l.startsWith('--> '));
    return { kind: 'compile', line: at ? `${lines[rustError]} (${at.slice(4)})` : lines[rustError] };
  }
  const couldNot = lines.find((l) => l.startsWith('error: could not compile'));
  if (couldNot) return { kind: 'compile', line: couldNot };
  return { kind: 'other', line: lines.find((l) => l.startsWith('error')) ?? lines[0] };
}
