// The worker process: takes jobs from the Redis list "jobs" when REDIS_URL is set, otherwise
// logs a heartbeat so `slipway logs` shows it is alive.
import { setTimeout as sleep } from 'node:timers/promises';
import { closeAll, redisClient } from './lib/backends.js';

// SIGTERM aborts any wait at once, so the dyno stops well within its grace period.
const stopping = new AbortController();
process.on('SIGTERM', () => stopping.abort());
process.on('SIGINT', () => stopping.abort());
const pause = (ms) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => {});

const client = redisClient();
if (client) {
  await client.connect();
  // A second connection: BLPOP blocks the one it runs on.
  const blocking = client.duplicate();
  console.log('worker: waiting for jobs on Redis list "jobs"');
  while (!stopping.signal.aborted) {
    try {
      const item = await blocking.blpop('jobs', 2);
      if (item) {
        const job = JSON.parse(item[1]);
        await client.incr('example:jobs_done');
        console.log(`worker: processed job ${job.kind ?? 'unknown'}`);
      }
    } catch (err) {
      console.error(`worker: ${err.message}`);
      await pause(1000);
    }
  }
  blocking.disconnect();
} else {
  console.log('worker: REDIS_URL not set, logging a heartbeat every 10 s');
  while (!stopping.signal.aborted) {
    console.log(`worker: heartbeat ${new Date().toISOString()}`);
    await pause(10_000);
  }
}
console.log('worker: stopped');
await closeAll();
process.exit(0);
