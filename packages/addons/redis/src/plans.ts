/** Redis plans: memory limit, eviction policy and persistence, written into each instance's config. */

/** What a plan sets. */
export interface RedisPlan {
  name: string;
  description: string;
  maxmemory: string;
  policy: 'noeviction' | 'allkeys-lru';
  /** AOF (fsync every second) plus RDB snapshots; false = memory only. */
  persistent: boolean;
  default?: boolean;
  /** Heroku Redis plan names that mean this plan (families end in `*`). */
  aliases?: string[];
}

/** The plans, default first. */
export const REDIS_PLANS: readonly RedisPlan[] = [
  {
    name: 'mini',
    description: '25 MB, persistent (AOF every second + RDB snapshots), no eviction',
    maxmemory: '25mb',
    policy: 'noeviction',
    persistent: true,
    default: true,
    aliases: ['hobby-*', 'essential-*'],
  },
  {
    name: 'premium',
    description: '256 MB, persistent (AOF every second + RDB snapshots), no eviction',
    maxmemory: '256mb',
    policy: 'noeviction',
    persistent: true,
    aliases: ['premium-*', 'standard-*', 'private-*', 'shield-*'],
  },
  {
    name: 'cache',
    description: '64 MB, memory only, least-recently-used keys evicted when full',
    maxmemory: '64mb',
    policy: 'allkeys-lru',
    persistent: false,
  },
];

/** The plan called `name` (plans were already validated by the SDK). */
export function redisPlan(name: string): RedisPlan {
  return REDIS_PLANS.find((p) => p.name === name) ?? REDIS_PLANS[0]!;
}
