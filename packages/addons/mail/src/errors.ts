/** The mail add-on's error catalogue. */
// defineErrors is core's; the add-on SDK does not re-export it (yet), so this one import is from core.
import { defineErrors } from '@slipway/addon-sdk';

/** Coded errors of @slipway/addon-mail. */
export const mailErrors = defineErrors({
  SLIPWAY_ERR_MAIL_PORT_BUSY: {
    message: 'SMTP port {port} is taken by another process',
    hint: 'Stop whatever listens on {listen}:{port} (the apps\' SMTP_URL point at it) or set the plugin option "port", then restart the platform.',
    status: 503,
  },
  SLIPWAY_ERR_MAIL_NO_MAILBOX: {
    message: 'mail add-on {id} has no mailbox',
    hint: 'Check the add-on id (slipway addons -a APP); it may have been destroyed.',
    status: 404,
  },
  SLIPWAY_ERR_MAIL_NO_MESSAGE: {
    message: 'mailbox {id} has no message {messageId}',
    hint: 'List the messages (slipway mail -a APP) and pass one of their ids.',
    status: 404,
  },
});
