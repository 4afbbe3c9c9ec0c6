/**
 * The mail provider's actions, which the platform exposes without knowing this provider
 * (`slipway mail` calls them): the messages of the resource's own mailbox, never another's.
 */
import type { AddonActionDefinition } from '@slipway/addon-sdk';
import { getMessage, listMessages } from './mailbox.js';
import type { MailOptions, MailState } from './provider.js';

type Action = AddonActionDefinition<MailOptions, MailState>;

/** `inbox:list` and `inbox:show`, by action name. */
export const mailActions: Readonly<Record<string, Action>> = {
  'inbox:list': {
    description: 'the messages the app sent, newest first, without bodies',
    readOnly: true,
    run: (req, ctx) => listMessages({ dataDir: ctx.dataDir, id: req.resource.id }),
  },
  'inbox:show': {
    description: 'one message with its bodies and raw source',
    readOnly: true,
    inputSchema: {
      type: 'object',
      required: ['message'],
      additionalProperties: false,
      properties: { message: { type: 'string', minLength: 1, maxLength: 200 } },
    },
    run: (req, ctx) =>
      getMessage({ dataDir: ctx.dataDir, id: req.resource.id, messageId: String(req.input.message) }),
  },
};
