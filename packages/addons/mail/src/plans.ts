/** Mail plans: the largest message accepted and how many messages a mailbox keeps. */

/** What a plan sets. */
export interface MailPlan {
  name: string;
  description: string;
  maxMessageBytes: number;
  keep: number;
  default?: boolean;
}

const MiB = 1024 * 1024;

/** The plans, default first. */
export const MAIL_PLANS: readonly MailPlan[] = [
  {
    name: 'dev',
    description: 'Messages up to 10 MB, the latest 500 kept',
    maxMessageBytes: 10 * MiB,
    keep: 500,
    default: true,
  },
  {
    name: 'pro',
    description: 'Messages up to 25 MB, the latest 5000 kept',
    maxMessageBytes: 25 * MiB,
    keep: 5000,
  },
];

/** The plan called `name`. */
export function mailPlan(name: string): MailPlan {
  return MAIL_PLANS.find((p) => p.name === name) ?? MAIL_PLANS[0]!;
}
