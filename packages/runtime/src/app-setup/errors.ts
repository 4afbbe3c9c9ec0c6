/** Coded errors of app setup from app.json (apps:create --manifest, POST /app-setups). */
import { defineErrors } from '@slipway/core';

/** Refusals of an app.json setup; nothing is left half-applied when one is thrown. */
export const appSetupErrors = defineErrors({
  SLIPWAY_ERR_APPSETUP_ENV_REQUIRED: {
    message: 'app.json requires {keys}, which were not given',
    hint: 'Give them: `slipway apps:create NAME --manifest app.json --env {example}`.',
    status: 422,
  },
  SLIPWAY_ERR_APPSETUP_MANIFEST: {
    message: 'app.json is invalid: {detail}',
    hint: 'Fix app.json (see https://devcenter.heroku.com/articles/app-json-schema).',
    status: 422,
  },
  SLIPWAY_ERR_APPSETUP_FAILED: {
    message: 'setting up {app} from app.json failed at {step}: {detail}',
    hint: 'Nothing was kept; fix the cause and run it again.',
    status: 422,
  },
});
