/** @slipway/addon-redis: a password-protected Redis server per add-on, with plans for memory and persistence. */
import { defineAddon } from '@slipway/addon-sdk';
import { redisDefinition } from './provider.js';

export { redisErrors } from './errors.js';
export { authPing, type InstanceMeta, redisConf } from './instance.js';
export { REDIS_PLANS, type RedisPlan, redisPlan } from './plans.js';
export {
  findRedisServer,
  type RedisOptions,
  type RedisState,
  redisDefinition,
  redisUrl,
} from './provider.js';

/** The Redis add-on plugin. */
export default defineAddon(redisDefinition);
