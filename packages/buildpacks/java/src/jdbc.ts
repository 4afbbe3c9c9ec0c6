// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this string is a shell script
/**
 * `.profile.d/jdbc.sh`: at dyno start, the JDBC variables Heroku's JVM buildpacks derive from
 * `DATABASE_URL` (`postgres://user:pass@host:port/db`):
 * `JDBC_DATABASE_URL=jdbc:postgresql://host:port/db?user=user&password=pass&sslmode=require`,
 * `JDBC_DATABASE_USERNAME`, `JDBC_DATABASE_PASSWORD`, and the same three as
 * `SPRING_DATASOURCE_*` unless the app set any of those or `DISABLE_SPRING_DATASOURCE_URL=true`.
 * Variables the app set itself win; `HEROKU_POSTGRESQL_<COLOR>_URL` attachments get
 * `HEROKU_POSTGRESQL_<COLOR>_JDBC_URL/USERNAME/PASSWORD`, as on Heroku.
 */

/** The script, sourced by bash after the config vars are set. */
export const JDBC_PROFILE = `# Written by the Slipway java buildpack: Heroku's JDBC variables from DATABASE_URL.
__slipway_jdbc() {
  local url="$1" prefix="$2"
  [ -n "$(eval "printf %s \\"\\\${\${prefix}_URL:-}\\"")" ] && return 0
  local re='^(postgres|postgresql|mysql)://([^:@/]+):([^@/]+)@([^/]+)/([^?]+)(\\?.*)?$'
  [[ "$url" =~ $re ]] || return 0
  local scheme="\${BASH_REMATCH[1]}" user="\${BASH_REMATCH[2]}" pass="\${BASH_REMATCH[3]}"
  local hostport="\${BASH_REMATCH[4]}" db="\${BASH_REMATCH[5]}" query="\${BASH_REMATCH[6]}"
  local jdbc="jdbc:mysql" extra=""
  if [ "$scheme" != mysql ]; then jdbc="jdbc:postgresql"; extra="&sslmode=require"; fi
  local sep='?'
  [ -n "$query" ] && sep='&'
  export "\${prefix}_URL=\${jdbc}://\${hostport}/\${db}\${query}\${sep}user=\${user}&password=\${pass}\${extra}"
  export "\${prefix}_USERNAME=\${user}"
  export "\${prefix}_PASSWORD=\${pass}"
}
if [ -n "\${DATABASE_URL:-}" ]; then __slipway_jdbc "$DATABASE_URL" JDBC_DATABASE; fi
if [ "\${DISABLE_SPRING_DATASOURCE_URL:-}" != true ] && [ -n "\${JDBC_DATABASE_URL:-}" ] &&
  [ -z "\${SPRING_DATASOURCE_URL:-}\${SPRING_DATASOURCE_USERNAME:-}\${SPRING_DATASOURCE_PASSWORD:-}" ]; then
  export SPRING_DATASOURCE_URL="$JDBC_DATABASE_URL"
  export SPRING_DATASOURCE_USERNAME="\${JDBC_DATABASE_USERNAME:-}"
  export SPRING_DATASOURCE_PASSWORD="\${JDBC_DATABASE_PASSWORD:-}"
fi
for __slipway_var in $(compgen -e | grep -E '^HEROKU_POSTGRESQL_[A-Z0-9_]+_URL$'); do
  case "$__slipway_var" in *_JDBC_URL) continue ;; esac
  __slipway_jdbc "\${!__slipway_var}" "\${__slipway_var%_URL}_JDBC"
done
unset -f __slipway_jdbc
unset __slipway_var
`;
