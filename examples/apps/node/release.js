// The release process: runs before a release goes live. Creates the app's table when a
// database is attached; otherwise says it skipped, and succeeds.
import { closeAll, db } from './lib/backends.js';

const pool = db();
if (!pool) {
  console.log('release: DATABASE_URL not set, skipping migrations');
} else {
  await pool.query(`CREATE TABLE IF NOT EXISTS visits (
    id SERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
  console.log('release: table "visits" is ready');
}
await closeAll();
