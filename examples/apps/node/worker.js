// The worker process: takes jobs from the Redis list "jobs" when REDIS_URL is set, otherwise
// logs a heartbeat so `slipway logs` shows it is alive.
import { closeAll, redisClient } from './lib/backends.js';

let running = true;
const stop = () => {
  running = false;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const client = redisClient();
if (client) {
  await client.connect();
  // A second connection: BLPOP blocks the one it runs on.
  const blocking = client.duplicate();
  console.log('worker: waiting for jobs on Redis list "jobs"');
  while (running) {
    try {
      const item = await blocking.blpop('jobs', 2);
      if (item) {
        const job = JSON.parse(item[1]);
        await client.incr('example:jobs_done');
        console.log(`worker: processed job ${job.kind ?? 'unknown'}`);
      }
    } catch (err) {
      console.error(`worker: ${err.message}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  blocking.disconnect();
} else {
  console.log('worker: REDIS_URL not set, logging a heartbeat every 10 s');
  while (running) {
    console.log(`worker: heartbeat ${new Date().toISOString()}`);
    // Short ticks so SIGTERM is honoured within a second.
    for (let i = 0; i < 10 && running; i++) await new Promise((r) => setTimeout(r, 1000));
  }
}
await closeAll();
process.exit(0);
