/** @slipway/addon-mail: an SMTP endpoint with per-add-on credentials and mailboxes, optional relay. */
import { defineAddon } from '@slipway/addon-sdk';
import { mailDefinition } from './provider.js';

export { mailErrors } from './errors.js';
export {
  getMessage,
  listMessages,
  type MailAccount,
  type MailboxRef,
  type MessageSummary,
  mailDataDir,
  type StoredMessage,
} from './mailbox.js';
export { MAIL_PLANS, type MailPlan, mailPlan } from './plans.js';
export { MAIL_CONFIG_VARS, type MailOptions, type MailState, mailDefinition } from './provider.js';

/** The mail add-on plugin. */
export default defineAddon(mailDefinition);
