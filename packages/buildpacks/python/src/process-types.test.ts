import { expect } from 'chai';
import { djangoProject, factFiles, inferWeb, procfileHasWeb } from './process-types.js';

const installed = (...names: string[]) => new Set(names);

describe('python default web process', () => {
  it('serves a module-level Flask app with gunicorn', () => {
    const web = inferWeb({
      files: { 'app.py': 'from flask import Flask\napp = Flask(__name__)\n' },
      installed: installed('flask', 'gunicorn'),
    });
    expect(web?.command).to.equal("gunicorn --bind 0.0.0.0:$PORT 'app:app'");
    expect(web?.reason).to.equal('Flask (app.py)');
  });

  it('calls a Flask application factory', () => {
    const web = inferWeb({
      files: { 'main.py': 'def create_app():\n    return Flask(__name__)\n' },
      installed: installed('flask', 'gunicorn'),
    });
    expect(web?.command).to.equal("gunicorn --bind 0.0.0.0:$PORT 'main:create_app()'");
  });

  it("falls back to Flask's own server without gunicorn", () => {
    const web = inferWeb({
      files: { 'wsgi.py': 'server = flask.Flask("x")\n' },
      installed: installed('flask'),
    });
    expect(web?.command).to.equal("python -m flask --app 'wsgi:server' run --host 0.0.0.0 --port $PORT");
  });

  it("serves a Django project's wsgi module", () => {
    const managePy = 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")';
    expect(djangoProject(managePy)).to.equal('mysite');
    expect(factFiles(managePy)).to.include('mysite/wsgi.py');
    const web = inferWeb({
      files: { 'manage.py': managePy, 'mysite/wsgi.py': 'application = get_wsgi_application()' },
      installed: installed('django', 'gunicorn'),
    });
    expect(web?.command).to.equal('gunicorn mysite.wsgi --bind 0.0.0.0:$PORT --log-file -');
  });

  it('serves a plain WSGI module only when gunicorn is installed', () => {
    const files = { 'wsgi.py': 'def application(environ, start_response): ...\napplication = application\n' };
    expect(inferWeb({ files, installed: installed('gunicorn') })?.command).to.equal(
      "gunicorn --bind 0.0.0.0:$PORT 'wsgi:application'",
    );
    expect(inferWeb({ files, installed: installed() })).to.equal(undefined);
  });

  it('gives no default for an app it cannot tell', () => {
    expect(inferWeb({ files: { 'main.py': 'print("hi")' }, installed: installed('gunicorn') })).to.equal(
      undefined,
    );
  });

  it('reads a web line from a Procfile', () => {
    expect(procfileHasWeb('worker: python w.py\nweb: gunicorn app:app\n')).to.equal(true);
    expect(procfileHasWeb('worker: python w.py\n')).to.equal(false);
    expect(procfileHasWeb(undefined)).to.equal(false);
  });
});
