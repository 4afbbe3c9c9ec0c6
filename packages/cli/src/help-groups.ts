/**
 * `slipway --help` groups verbs by topic, as the Heroku CLI does (apps, ps, releases, config,
 * addons, …): a verb's topic is the part of its name before the colon, a few bare verbs are
 * placed by hand, and the topics come in the order a Heroku user meets them.
 */
import type { Command } from 'commander';

/** Topics in help order, with their headings. */
export const TOPICS: readonly (readonly [topic: string, heading: string])[] = [
  ['apps', 'apps — manage apps'],
  ['deploy', 'deploy — git push, uploads and builds'],
  ['buildpacks', 'buildpacks — the buildpacks of an app'],
  ['ps', 'ps — dynos and the formation'],
  ['run', 'run — one-off dynos'],
  ['releases', 'releases — release history, output and rollback'],
  ['config', 'config — config vars'],
  ['addons', 'addons — add-ons and attachments'],
  ['pg', 'pg — Postgres'],
  ['redis', 'redis — Redis'],
  ['mail', 'mail — what the mail add-on received'],
  ['logs', 'logs — logs'],
  ['drains', 'drains — log drains'],
  ['domains', 'domains — custom domains'],
  ['certs', 'certs — SSL certificates, uploaded or automated (ACM)'],
  ['https', 'https — redirect to HTTPS and HSTS'],
  ['maintenance', 'maintenance — maintenance mode'],
  ['access', 'access — who may change an app, and who did what'],
  ['auth', 'auth — sign in as yourself'],
  ['authorizations', 'authorizations — API tokens'],
  ['users', "users — the platform's users (admin)"],
  [
    'platform',
    'platform — run Slipway, build its stack, its swarm nodes, write buildpacks and add-ons, shell completion',
  ],
];

/** Bare verbs whose topic is not their own name. */
const PLACED: Record<string, string> = {
  git: 'deploy',
  build: 'deploy',
  builds: 'deploy',
  start: 'platform',
  stack: 'platform',
  stacks: 'platform',
  nodes: 'platform',
  new: 'platform',
  addon: 'platform',
  completion: 'platform',
  login: 'auth',
  logout: 'auth',
  whoami: 'auth',
  passwd: 'auth',
  audit: 'access',
};

/** The topic of a verb (`apps:create` → apps, `git:remote` → deploy). */
export function topicOf(name: string): string {
  const head = name.split(':')[0] as string;
  return PLACED[head] ?? head;
}

/** Put every verb under its topic's heading and order the verbs by topic. */
export function groupCommands(program: Command): void {
  const order = new Map(TOPICS.map(([t], i) => [t, i]));
  const heading = new Map(TOPICS);
  const rank = (c: Command) => order.get(topicOf(c.name())) ?? TOPICS.length;
  for (const c of program.commands) c.helpGroup(`${heading.get(topicOf(c.name())) ?? 'other'}:`);
  // Commander shows groups in the order their first verb appears; a stable sort keeps each topic's own order.
  (program.commands as Command[]).sort((a, b) => rank(a) - rank(b));
}
