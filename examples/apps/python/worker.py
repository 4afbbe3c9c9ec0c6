"""A background worker: pops jobs from Redis when REDIS_URL is set, otherwise heartbeats."""
import os
import time

url = os.environ.get("REDIS_URL")
if url:
    import redis

    client = redis.Redis.from_url(url)
    print("worker: waiting for jobs on slipway-example-python:jobs", flush=True)
    while True:
        item = client.blpop("slipway-example-python:jobs", timeout=30)
        if item:
            print(f"worker: processed {item[1].decode()}", flush=True)
else:
    print("worker: REDIS_URL not configured; heartbeating", flush=True)
    while True:
        time.sleep(60)
        print("worker: alive", flush=True)
