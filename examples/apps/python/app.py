"""Slipway's Python example: a Flask app that binds $PORT (through gunicorn) and reaches the
add-ons (DATABASE_URL, REDIS_URL, SMTP_URL) lazily, so /health answers without them."""
import os
import smtplib
import socket
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from flask import Flask, jsonify

app = Flask(__name__)


def not_configured(var):
    return jsonify(ok=False, error=f"{var} is not configured"), 503


@app.get("/")
def index():
    return jsonify(
        app="slipway-example-python",
        dyno=os.environ.get("DYNO", "local"),
        addons={v: bool(os.environ.get(v)) for v in ("DATABASE_URL", "REDIS_URL", "SMTP_URL")},
    )


@app.get("/health")
def health():
    return jsonify(ok=True)


@app.get("/db")
def db():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return not_configured("DATABASE_URL")
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        version = conn.execute("select version()").fetchone()[0]
    return jsonify(ok=True, version=version)


@app.get("/redis")
def redis_route():
    url = os.environ.get("REDIS_URL")
    if not url:
        return not_configured("REDIS_URL")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    hits = client.incr("slipway-example-python:hits")
    return jsonify(ok=True, hits=hits)


@app.get("/mail")
def mail():
    url = os.environ.get("SMTP_URL")
    if not url:
        return not_configured("SMTP_URL")
    u = urlparse(url)
    msg = EmailMessage()
    msg["From"] = "example@slipway.local"
    msg["To"] = "someone@slipway.local"
    msg["Subject"] = "Hello from the Slipway Python example"
    msg.set_content(f"Sent by {socket.gethostname()}")
    smtp_cls = smtplib.SMTP_SSL if u.scheme == "smtps" else smtplib.SMTP
    with smtp_cls(u.hostname, u.port or (465 if u.scheme == "smtps" else 25), timeout=10) as s:
        if u.username:
            s.login(unquote(u.username), unquote(u.password or ""))
        s.send_message(msg)
    return jsonify(ok=True, sent=msg["Subject"])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
