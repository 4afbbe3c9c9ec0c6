/** The router's error catalogue (configuration and listener errors; request errors are H-codes). */
import { defineErrors } from '@slipway/core';

/** Errors `createRouter` and its listeners throw. */
export const routerErrors = defineErrors({
  SLIPWAY_ERR_ROUTER_BASE_DOMAIN: {
    message: 'router base domain "{domain}" is not a valid host name',
    hint: 'Set baseDomain to a DNS name such as apps.example.com (letters, digits, dots and dashes).',
    status: 400,
  },
  SLIPWAY_ERR_ROUTER_OPTION: {
    message: 'router option {field} {detail}',
    hint: 'Fix {field} in the options passed to createRouter.',
    status: 400,
  },
  SLIPWAY_ERR_ROUTER_TLS_FILE: {
    message: 'cannot read TLS {kind} file {file}: {detail}',
    hint: 'Check the path and permissions of the certificate files given in tls.certificates.',
    status: 400,
  },
  SLIPWAY_ERR_ROUTER_TLS_MISSING: {
    message: 'listenTls() needs TLS certificates, but none were configured',
    hint: 'Pass tls: { certificates: [{ cert, key, domains }] } or tls: { store } to createRouter.',
    status: 400,
  },
  SLIPWAY_ERR_ROUTER_TLS_PAIR: {
    message: 'the certificate for {domains} cannot be served: {detail}',
    hint: 'Give a PEM certificate chain and the PEM private key that belongs to its first certificate.',
    status: 400,
  },
  SLIPWAY_ERR_ROUTER_LISTEN: {
    message: 'router cannot listen on {host}:{port}: {detail}',
    hint: 'Pick a free port, or stop whatever already listens there.',
  },
  SLIPWAY_ERR_ROUTER_DATA_PLANE: {
    message: 'the HAProxy data plane refused "{command}": {detail}',
    hint: 'Check that haproxy (2.6 or later) runs and its stats socket is reachable; the platform log shows its output.',
  },
  SLIPWAY_ERR_ROUTER_HAPROXY_MISSING: {
    message: 'the HAProxy data plane needs haproxy, which was not found ({detail})',
    hint: 'Install it (apt-get install haproxy) or choose the Node router (platform.router: "node").',
  },
  SLIPWAY_ERR_ROUTER_RULE_HAPROXY: {
    message: 'a route rule cannot be compiled for HAProxy and applies on the Node router only: {detail}',
    hint: 'Keep hosts, path prefixes and header or cookie names to letters, digits and -._ (or serve the app with the Node router).',
  },
  SLIPWAY_ERR_ROUTER_SLOTS_FULL: {
    message: 'the HAProxy data plane has no free slot for app {app} ({slots} slots in use)',
    hint: 'Raise the haproxy slots option of the router, or use the Node router.',
  },
});
