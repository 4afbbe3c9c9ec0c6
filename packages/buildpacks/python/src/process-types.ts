/**
 * The default `web` process of a Python app, when the buildpack can tell what the app is:
 * Django (its `wsgi.py`), Flask (a module-level `Flask(...)` or `create_app`), or any
 * `wsgi.py` served by gunicorn. Pure logic over file contents, so it is unit-tested directly.
 */

/** What the decision needs to know about the app. */
export interface PythonAppFacts {
  /** Contents of the candidate files that exist (`manage.py`, `app.py`, `<project>/wsgi.py`…). */
  files: Readonly<Record<string, string>>;
  /** Installed distributions' import names, lower-case (`gunicorn`, `django`, `flask`). */
  installed: ReadonlySet<string>;
}

/** Modules a Flask or WSGI app usually lives in, in the order they are tried. */
export const APP_MODULES = ['app', 'wsgi', 'main', 'application', 'server'] as const;

/** The Django project package named in `manage.py` (`mysite` for `mysite.settings`). */
export function djangoProject(managePy: string | undefined): string | undefined {
  const m = managePy?.match(/DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)\.settings\b/);
  return m?.[1];
}

/** Files whose contents `inferWeb` looks at, given `manage.py`'s contents. */
export function factFiles(managePy: string | undefined): string[] {
  const project = djangoProject(managePy);
  return [
    ...APP_MODULES.map((m) => `${m}.py`),
    ...(project ? [`${project.replace(/\./g, '/')}/wsgi.py`] : []),
  ];
}

/** The default web command and why it was chosen, or undefined when the app gives no clue. */
export function inferWeb(facts: PythonAppFacts): { command: string; reason: string } | undefined {
  const gunicorn = facts.installed.has('gunicorn');
  const managePy = facts.files['manage.py'];
  const project = djangoProject(managePy);
  if (project && facts.installed.has('django')) {
    const wsgi = `${project.replace(/\./g, '/')}/wsgi.py`;
    if (gunicorn && facts.files[wsgi] !== undefined)
      return {
        command: `gunicorn ${project}.wsgi --bind 0.0.0.0:$PORT --log-file -`,
        reason: `Django (${wsgi})`,
      };
    return { command: 'python manage.py runserver 0.0.0.0:$PORT', reason: 'Django (manage.py, no gunicorn)' };
  }
  for (const mod of APP_MODULES) {
    const src = facts.files[`${mod}.py`];
    if (src === undefined) continue;
    const flaskVar = src.match(/^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:flask\.)?Flask\(/m)?.[1];
    const factory = /^def create_app\(/m.test(src);
    const wsgiVar = src.match(/^(application|app)\s*=/m)?.[1];
    const target = flaskVar
      ? `${mod}:${flaskVar}`
      : factory && facts.installed.has('flask')
        ? `${mod}:create_app()`
        : wsgiVar && gunicorn
          ? `${mod}:${wsgiVar}`
          : undefined;
    if (!target) continue;
    const kind = flaskVar || factory ? 'Flask' : 'WSGI';
    if (gunicorn)
      return { command: `gunicorn --bind 0.0.0.0:$PORT '${target}'`, reason: `${kind} (${mod}.py)` };
    if (kind === 'Flask' && facts.installed.has('flask'))
      return {
        command: `python -m flask --app '${target}' run --host 0.0.0.0 --port $PORT`,
        reason: `Flask (${mod}.py, no gunicorn)`,
      };
  }
  return undefined;
}

/** True when the Procfile text declares a `web` process. */
export function procfileHasWeb(procfile: string | undefined): boolean {
  return procfile !== undefined && /^\s*web\s*:/m.test(procfile);
}
