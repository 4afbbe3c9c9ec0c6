// Clients for the add-ons Slipway attaches (Postgres, Redis, SMTP). Each is created lazily on
// first use so the app boots and answers /health without any of them.
import nodemailer from 'nodemailer';
import pg from 'pg';
import { Redis } from 'ioredis';

let pool;
let redis;
let mailer;

/** A pg pool for DATABASE_URL, or undefined when no database is attached. */
export function db() {
  if (!process.env.DATABASE_URL) return undefined;
  pool ??= new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4, connectionTimeoutMillis: 5000 });
  return pool;
}

/** An ioredis client for REDIS_URL, or undefined when no Redis is attached. */
export function redisClient() {
  if (!process.env.REDIS_URL) return undefined;
  redis ??= new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000 });
  return redis;
}

/** A nodemailer transport for SMTP_URL, or undefined when no mail add-on is attached. */
export function smtp() {
  if (!process.env.SMTP_URL) return undefined;
  mailer ??= nodemailer.createTransport(process.env.SMTP_URL);
  return mailer;
}

/** Close whatever was opened, so SIGTERM ends the process promptly. */
export async function closeAll() {
  await Promise.allSettled([pool?.end(), redis?.quit(), mailer?.close()]);
}
