// The web process: binds $PORT, answers / and /health, and talks to the attached add-ons.
import { readFileSync } from 'node:fs';
import express from 'express';
import { closeAll, db, redisClient, smtp } from './lib/backends.js';

const app = express();
const port = Number(process.env.PORT || 5000);
const buildInfo = (() => {
  try {
    return JSON.parse(readFileSync(new URL('./build/info.json', import.meta.url), 'utf8'));
  } catch {
    return null;
  }
})();

app.get('/', (_req, res) => {
  res.json({ app: 'slipway-example-node', node: process.version, dyno: process.env.DYNO ?? null, build: buildInfo });
});

app.get('/health', (_req, res) => {
  res.status(200).json({ status: 'ok' });
});

app.get('/db', async (_req, res) => {
  const pool = db();
  if (!pool) return res.status(503).json({ database: 'not configured' });
  try {
    // Writes and reads: every visit is a row (the release process creates the table; creating it
    // here too keeps the route working on an app whose release phase has not run yet).
    await pool.query('CREATE TABLE IF NOT EXISTS visits (id SERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now())');
    await pool.query('INSERT INTO visits DEFAULT VALUES');
    const { rows } = await pool.query(
      'SELECT version() AS version, (SELECT count(*)::int FROM visits) AS visits, now() AS now',
    );
    res.json({ database: 'ok', ...rows[0] });
  } catch (err) {
    res.status(502).json({ database: 'error', error: err.message });
  }
});

app.get('/redis', async (_req, res) => {
  const client = redisClient();
  if (!client) return res.status(503).json({ redis: 'not configured' });
  try {
    if (client.status === 'wait') await client.connect();
    const hits = await client.incr('example:hits');
    await client.rpush('jobs', JSON.stringify({ kind: 'hit', at: Date.now() }));
    res.json({ redis: 'ok', hits });
  } catch (err) {
    res.status(502).json({ redis: 'error', error: err.message });
  }
});

app.get('/mail', async (req, res) => {
  const transport = smtp();
  if (!transport) return res.status(503).json({ mail: 'not configured' });
  try {
    const to = typeof req.query.to === 'string' ? req.query.to : 'someone@example.com';
    const info = await transport.sendMail({
      from: 'app@example.com',
      to,
      subject: 'Hello from Slipway',
      text: 'Sent by the Node example app.',
    });
    res.json({ mail: 'sent', messageId: info.messageId });
  } catch (err) {
    res.status(502).json({ mail: 'error', error: err.message });
  }
});

const server = app.listen(port, () => {
  console.log(`listening on port ${port}`);
});

function shutdown(signal) {
  console.log(`${signal} received, closing`);
  server.close(() => closeAll().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
