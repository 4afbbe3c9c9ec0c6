/** Coded errors of app certificates (uploads, ACME) and HTTPS settings. */
import { defineErrors } from '@slipway/core';

/** Errors of `certs:*` and `https:*`. */
export const certErrors = defineErrors({
  SLIPWAY_ERR_CERT_PEM: {
    message: 'the {what} is not valid PEM: {detail}',
    hint: 'Give the certificate chain (leaf first, then intermediates) and the unencrypted private key as PEM files.',
    status: 422,
  },
  SLIPWAY_ERR_CERT_KEY_MISMATCH: {
    message: 'the private key does not belong to the certificate for {names}',
    hint: 'Upload the key that was generated with this certificate request (the pair must match).',
    status: 422,
  },
  SLIPWAY_ERR_CERT_CHAIN_ORDER: {
    message: 'certificate {index} of the chain ({subject}) did not issue the one before it ({issued})',
    hint: 'Put the leaf certificate first, then each issuer in turn (intermediates; the root may be left out).',
    status: 422,
  },
  SLIPWAY_ERR_CERT_EXPIRED: {
    message: 'the certificate for {names} expired on {date}',
    hint: 'Renew it with your certificate authority, or let the platform obtain one: `slipway certs:auto:enable -a APP`.',
    status: 422,
  },
  SLIPWAY_ERR_CERT_NOT_YET_VALID: {
    message: 'the certificate for {names} is not valid before {date}',
    hint: 'Check the clock of the machine that issued it, or upload it once it is valid.',
    status: 422,
  },
  SLIPWAY_ERR_CERT_DOMAIN: {
    message: 'the certificate covers {names}, not {domain}',
    hint: 'Upload a certificate whose subject alternative names include {domain}, or leave out --domain.',
    status: 422,
  },
  SLIPWAY_ERR_CERT_NO_DOMAIN: {
    message: 'the certificate covers {names}, none of which is a custom domain of {app}',
    hint: 'Add the domain first (`slipway domains:add HOST -a {app}`), then upload the certificate.',
    status: 422,
  },
  SLIPWAY_ERR_CERT_HTTPS_CONFIG: {
    message: 'platform https setting {field} {detail}',
    hint: 'Fix platform.https in the config file (or the https options of startPlatform); see packages/runtime/HTTPS.md.',
    status: 400,
  },
  SLIPWAY_ERR_CERT_NOT_FOUND: {
    message: 'app {app} has no certificate {name}',
    hint: 'List them with `slipway certs -a {app}`.',
    status: 404,
  },
  SLIPWAY_ERR_CERT_ACME_OFF: {
    message: 'automated certificates are not enabled for {app}',
    hint: 'Enable them with `slipway certs:auto:enable -a {app}`.',
    status: 422,
  },
  SLIPWAY_ERR_CERT_ACME_NO_DOMAINS: {
    message: 'app {app} has no custom domains to obtain certificates for',
    hint: 'Add one with `slipway domains:add HOST -a {app}` and point its DNS at this platform.',
    status: 422,
  },
});
