// The failure converter of every client, worker and workflow (temporal/codec.ts names this file):
// error messages and stack traces are sent as an encoded payload, which the payload codec encrypts.
// CommonJS, because the SDK loads it with require() (in workers, clients and tests alike) and
// bundles it into the workflow sandbox.
/* global require, exports */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
