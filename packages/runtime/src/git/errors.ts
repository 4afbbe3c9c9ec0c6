/** Coded errors of git push: what a push can be refused for, each with what to do instead. */
import { defineErrors } from '@slipway/core';

/** Refusals of the smart-HTTP git endpoint and of the builds pushes start. */
export const gitErrors = defineErrors({
  SLIPWAY_ERR_GIT_REF: {
    message: 'pushing {ref} is refused: only main or master deploys',
    hint: 'Push your branch to main: `git push slipway {branch}:main`.',
    status: 422,
  },
  SLIPWAY_ERR_GIT_REF_NAME: {
    message: 'ref name {ref} is refused: it has characters outside [A-Za-z0-9._/-]',
    hint: 'Push a plain branch name: `git push slipway HEAD:main`.',
    status: 422,
  },
  SLIPWAY_ERR_GIT_DELETE: {
    message: 'deleting {ref} is refused',
    hint: 'To stop the app, scale it down (`slipway ps:scale web=0`) or destroy it (`slipway apps:destroy`).',
    status: 422,
  },
  SLIPWAY_ERR_GIT_EMPTY: {
    message: 'the pushed commit has no files',
    hint: 'Commit your app (package.json, Procfile…) and push again.',
    status: 422,
  },
  SLIPWAY_ERR_GIT_TOO_LARGE: {
    message: 'push is larger than {limit} bytes',
    hint: 'Remove large files from the history, or raise the platform limit (maxPushBytes).',
    status: 413,
  },
  SLIPWAY_ERR_GIT_PUSH_SECRET: {
    message: 'unknown or expired push callback',
    hint: 'This endpoint is called by the repository hook of a running push only; push again.',
    status: 403,
  },
  SLIPWAY_ERR_GIT_BACKEND: {
    message: 'git http-backend failed: {detail}',
    hint: 'Check that git is installed on the platform host (`apt-get install git`).',
    status: 500,
  },
});
