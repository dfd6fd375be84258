'use strict';
// A partner streams redemptions to HlmHub with @grpc/grpc-js and resends what was not acknowledged: one file, no
// helpers. The same steps as examples/python/partner_redemptions.py: a token, the partner's first redeemable offer,
// up to five eligible members (the Watch snapshot), one redemption each; the first stream breaks after
// HLMHUB_BREAK_AFTER acknowledgements (default 2, 0: never) and the rest is resent. Settings: examples/README.md.
// Run: cd examples/node && npm ci && node partner_redemptions.js. Exit code 0 when every event was accepted.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const ROOT = path.resolve(__dirname, '../..');
const START_HINT = 'start it with `dotnet run --project src/HlmHub.Server -- --seed-demo`';
const GRPC_ADDRESS = process.env.HLMHUB_GRPC_ADDRESS || '127.0.0.1:5080';
const HTTP_URL = (process.env.HLMHUB_HTTP_URL || 'http://127.0.0.1:5081').replace(/\/$/, '');
const DEMO_CLIENTS = process.env.HLMHUB_DEMO_CLIENTS || path.join(ROOT, 'src/HlmHub.Server/data/demo-clients.json');
const CLIENT_ID = process.env.HLMHUB_CLIENT_ID || 'demo-partner-bakery';
const NEEDS = 'scope hlmhub.redemptions (and hlmhub.offers.read) from a partner client';
const PURCHASE_CENTS = 1200;

// One line for the person running the example: what went wrong and what to do.
class Failure extends Error {}

// HLMHUB_ACCESS_TOKEN if set, else a client-credentials token from the hub (HTTP/1.1, client_secret_basic).
async function accessToken() {
  if (process.env.HLMHUB_ACCESS_TOKEN) return process.env.HLMHUB_ACCESS_TOKEN;
  let secret = process.env.HLMHUB_CLIENT_SECRET;
  if (!secret && fs.existsSync(DEMO_CLIENTS)) { // the demo's secrets, written by the seed
    const { clients } = JSON.parse(fs.readFileSync(DEMO_CLIENTS, 'utf8'));
    secret = clients.find((client) => client.client_id === CLIENT_ID)?.client_secret;
  }
  const basic = Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(secret ?? '')}`).toString('base64');
  const response = await fetch(`${HTTP_URL}/connect/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }),
    headers: { authorization: `Basic ${basic}` }, signal: AbortSignal.timeout(30000),
  }).catch((error) => {
    throw new Failure(`hub not reachable at ${HTTP_URL} (${error.cause?.code ?? error.message}): ${START_HINT}`);
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) return body.access_token;
  if (body.error === 'invalid_client') {
    throw new Failure(`wrong client id or secret for ${CLIENT_ID}: check HLMHUB_CLIENT_ID and HLMHUB_CLIENT_SECRET `
      + `(the demo's are in ${DEMO_CLIENTS})`);
  }
  throw new Failure(`the token endpoint refused ${CLIENT_ID}: HTTP ${response.status}: ${JSON.stringify(body)}`);
}

// One line for a failed gRPC call: what to do, then what the hub said.
function explain(error) {
  const advice = {
    [grpc.status.UNAVAILABLE]: `hub not reachable at ${GRPC_ADDRESS}: ${START_HINT}`,
    [grpc.status.UNAUTHENTICATED]: 'the hub refused the access token (expired, or from another hub): get a new one',
    [grpc.status.PERMISSION_DENIED]: `permission denied: this call needs ${NEEDS}; register such a client`,
  };
  return `${advice[error.code] ?? grpc.status[error.code]}; hub said: ${error.details}`;
}

// The first answers of the Watch snapshot: up to five eligible members.
async function eligibleMembers(partner, metadata) {
  const members = [];
  const watch = partner.Watch({}, metadata, { deadline: Date.now() + 30000 }); // a snapshot, not a wait forever
  for await (const update of watch) {
    members.push(...update.entries.filter((entry) => entry.eligible).map((entry) => entry.member_token));
    if (members.length >= 5 || update.cursor) break; // five are enough, or the snapshot is over
  }
  watch.cancel();
  return members.slice(0, 5);
}

// One stream: sends every pending event and deletes each from `pending` as its acknowledgement comes back.
function stream(service, metadata, pending, breakAfter, counts) {
  return new Promise((resolve, reject) => {
    const call = service.StreamRedemptions(metadata, { deadline: Date.now() + 60000 });
    let received = 0, broken = false; // broken: cancelled here, on purpose (a CANCELLED from the hub is an error)
    call.on('data', (ack) => {
      if (broken) return; // broken on purpose: what follows is as good as lost
      pending.delete(ack.event_id);
      received += 1;
      const [outcome, first] = [ack.outcome, ack.first_outcome].map((o) => o.replace('REDEMPTION_OUTCOME_', ''));
      const reason = ack.reason !== 'REDEMPTION_REASON_UNSPECIFIED' ? ` reason=${ack.reason}: ${ack.message}` : '';
      console.log(`ack ${ack.event_id} ${outcome}${outcome === 'DUPLICATE' ? ` (first answer ${first})` : ''}`
        + ` discount=${ack.computed_discount_cents} period=${ack.period}${reason}`);
      if (outcome === 'ACCEPTED' || first === 'ACCEPTED') counts.accepted += 1;
      if (received === breakAfter && pending.size > 0) {
        console.log(`breaking the stream after ${received} acknowledgements (demo of a lost connection)`);
        broken = true;
        call.cancel();
      }
    });
    call.on('error', (error) => (broken && error.code === grpc.status.CANCELLED ? resolve() : reject(error)));
    call.on('end', resolve);
    for (const event of pending.values()) call.write(event);
    call.end();
  });
}

async function main() {
  const definition = protoLoader.loadSync(['hlmhub/v1/eligibility.proto', 'hlmhub/v1/redemption.proto'], {
    // redemption.proto imports google/api/annotations.proto (its JSON mapping): protobufjs ships that file.
    includeDirs: [path.join(ROOT, 'protos'), path.dirname(require.resolve('protobufjs/package.json'))],
    keepCase: true, defaults: true, enums: String, longs: Number,
  });
  const v1 = grpc.loadPackageDefinition(definition).hlmhub.v1;
  const metadata = new grpc.Metadata();
  metadata.add('authorization', `Bearer ${await accessToken()}`);
  const partner = new v1.EligibilityService(GRPC_ADDRESS, grpc.credentials.createInsecure());
  const { offers } = await new Promise((resolve, reject) => partner.ListOffers({}, metadata,
    { deadline: Date.now() + 30000 }, (error, response) => (error ? reject(error) : resolve(response))));
  const offer = offers.find((o) => o.redeemable_now);
  if (!offer) throw new Failure('this partner has no redeemable offer: ask the club administrator for a contract');
  const members = await eligibleMembers(partner, metadata);
  if (members.length === 0) throw new Failure('no eligible member to redeem for: the club\'s roster has none yet');
  console.log(`offer ${offer.offer_id} (${offer.title}), ${members.length} members`);
  // The discount the hub computes, and the only one it accepts: fixed, or a capped percentage.
  const { fixed_discount_cents: fixed, percent_basis_points: points, percent_cap_cents: cap } = offer.terms;
  const cents = fixed ?? Math.min(Math.floor((PURCHASE_CENTS * points) / 10000), cap ?? Infinity);

  const runId = process.env.HLMHUB_RUN_ID || crypto.randomBytes(6).toString('hex');
  // A resent event must be the same event, occurred_at included.
  const at = process.env.HLMHUB_OCCURRED_AT ? new Date(process.env.HLMHUB_OCCURRED_AT) : new Date();
  const pending = new Map(members.map((member, index) => [`bakery-${runId}-${index + 1}`, {
    event_id: `bakery-${runId}-${index + 1}`, offer_id: offer.offer_id, member_token: member,
    purchase_cents: PURCHASE_CENTS, discount_cents: cents, occurred_at: { seconds: Math.floor(at / 1000), nanos: 0 },
  }])); // in the order sent: what was not acknowledged yet
  const service = new v1.RedemptionService(GRPC_ADDRESS, grpc.credentials.createInsecure());
  const breakAfter = Number(process.env.HLMHUB_BREAK_AFTER ?? '2');
  const counts = { accepted: 0 };
  let attempts = 0;
  while (pending.size > 0) {
    attempts += 1;
    if (attempts > 1) console.log(`resending ${pending.size} unacknowledged events`);
    try {
      await stream(service, metadata, pending, attempts === 1 ? breakAfter : 0, counts);
    } catch (error) {
      if (error.code !== grpc.status.UNAVAILABLE || attempts >= 5) throw error;
      console.log(`stream broken (${error.details}): retrying in ${attempts} s`);
      await new Promise((resolve) => setTimeout(resolve, attempts * 1000));
    }
  }
  console.log(`done: ${counts.accepted} of ${members.length} redemptions accepted, in ${attempts} streams`);
  return counts.accepted === members.length ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  const line = error instanceof Failure ? error.message : error.code !== undefined ? explain(error) : error.stack;
  console.error(`error: ${line}`);
  process.exit(1);
});
