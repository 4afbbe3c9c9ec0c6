// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell scripts
/** The `.profile.d/java.sh` a dyno sources: the JDK on PATH and default JVM options. */
import type { JavaRuntime } from './java-runtime.js';

/** Quote for a double-quoted shell string. */
function dq(value: string): string {
  return value.replace(/[\\"$`]/g, (c) => `\\${c}`);
}

/**
 * Config vars win (`${VAR:-default}`). The JVM options keep a small dyno's memory in check
 * (container-aware heap, small thread stacks) as Heroku's JAVA_TOOL_OPTIONS do.
 */
export function profileScript(runtime: JavaRuntime, buildDir?: string): string {
  const lines = ['# Written by the Slipway java buildpack.'];
  if (runtime.home && buildDir && runtime.home.startsWith(`${buildDir}/`)) {
    // A JDK in the slug: found from where the slug was unpacked, never the build dir's path.
    lines.push(
      '_slipway_app="$(cd "$(dirname "${BASH_SOURCE[0]:-$PWD/.profile.d/java.sh}")/.." && pwd)"',
      `export JAVA_HOME="\${JAVA_HOME:-$_slipway_app/${dq(runtime.home.slice(buildDir.length + 1))}}"`,
      'unset _slipway_app',
      'export PATH="$JAVA_HOME/bin:$PATH"',
    );
  } else if (runtime.home) {
    lines.push(`export JAVA_HOME="\${JAVA_HOME:-${dq(runtime.home)}}"`);
    lines.push('export PATH="$JAVA_HOME/bin:$PATH"');
  }
  lines.push(
    'export JAVA_OPTS="${JAVA_OPTS:--XX:MaxRAMPercentage=75 -Xss512k -XX:+UseSerialGC -Dfile.encoding=UTF-8}"',
  );
  lines.push('');
  return lines.join('\n');
}

/** The default web command for a runnable jar: PORT reaches the app as env and as `server.port`. */
export function webCommand(jar: string): string {
  return `java -Dserver.port=$PORT $JAVA_OPTS -jar ${jar}`;
}
