'use strict';
// What the Node example needs besides gRPC: settings, an access token, and errors a person can act on.
// Settings come from the environment, with the defaults of a hub started by
// `dotnet run --project src/HlmHub.Server -- --seed-demo` on this machine (see examples/README.md).
const fs = require('fs');
const path = require('path');
const { status } = require('@grpc/grpc-js');

const ROOT = path.resolve(__dirname, '../..');
const START_HINT = 'start it with `dotnet run --project src/HlmHub.Server -- --seed-demo`';
const GRPC_ADDRESS = process.env.HLMHUB_GRPC_ADDRESS || '127.0.0.1:5080';
const HTTP_URL = (process.env.HLMHUB_HTTP_URL || 'http://127.0.0.1:5081').replace(/\/$/, '');

// One line for the person running the example: what went wrong and what to do.
class Failure extends Error {}

// The demo client's secret, from demo-clients.json in the hub's data directory.
function demoSecret(clientId) {
  const candidates = [process.env.HLMHUB_DEMO_CLIENTS, path.join(ROOT, 'src/HlmHub.Server/data/demo-clients.json'),
    path.join(ROOT, 'data/demo-clients.json')];
  for (const file of candidates.filter((candidate) => candidate && fs.existsSync(candidate))) {
    const client = JSON.parse(fs.readFileSync(file, 'utf8')).clients.find((c) => c.client_id === clientId);
    if (client) return client.client_secret;
  }
  throw new Failure(`no secret for ${clientId}: set HLMHUB_CLIENT_SECRET, or seed the demo (${START_HINT}), `
    + 'which writes demo-clients.json to src/HlmHub.Server/data/');
}

// HLMHUB_ACCESS_TOKEN if set (a token you got yourself, e.g. with curl), else a client-credentials token from the
// hub's token endpoint (HTTP/1.1, client_secret_basic).
async function accessToken(defaultClientId) {
  if (process.env.HLMHUB_ACCESS_TOKEN) return process.env.HLMHUB_ACCESS_TOKEN;
  const clientId = process.env.HLMHUB_CLIENT_ID || defaultClientId;
  const secret = process.env.HLMHUB_CLIENT_SECRET || demoSecret(clientId);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  let response;
  try {
    response = await fetch(`${HTTP_URL}/connect/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(30000),
    });
  } catch (error) {
    throw new Failure(`hub not reachable at ${HTTP_URL} (${error.cause?.code ?? error.cause?.message ?? error.message}): ${START_HINT}`);
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok) return body.access_token;
  if (body.error === 'invalid_client') {
    throw new Failure(`wrong client id or secret for ${clientId}: check HLMHUB_CLIENT_ID and HLMHUB_CLIENT_SECRET `
      + '(the demo\'s are in src/HlmHub.Server/data/demo-clients.json)');
  }
  throw new Failure(`the token endpoint refused ${clientId}: ${body.error ?? `HTTP ${response.status}`}: ${JSON.stringify(body)}`);
}

// One line for a failed gRPC call; `needs` says which scope and client kind the rpc takes.
function explain(error, needs) {
  switch (error.code) {
    case status.UNAVAILABLE: return `hub not reachable at ${GRPC_ADDRESS} (${error.details}): ${START_HINT}`;
    case status.UNAUTHENTICATED:
      return `the hub refused the access token (expired, or from another hub): get a new one; hub said: ${error.details}`;
    case status.PERMISSION_DENIED:
      return `permission denied: this call needs ${needs}; register such a client; hub said: ${error.details}`;
    default: return `${status[error.code] ?? error.code}: ${error.details ?? error.message}`;
  }
}

module.exports = { accessToken, explain, Failure, GRPC_ADDRESS };
