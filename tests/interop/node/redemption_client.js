'use strict';
// A partner's till streaming redemptions to HlmHub with @grpc/grpc-js, as a partner's own Node system would.
// Gets its access token from the hub's token endpoint (client credentials, client_secret_basic, over HTTP/1.1), then
// over one StreamRedemptions call (real HTTP/2) sends EVENTS redemptions of a 10 % offer, one with a wrong discount,
// one for an unknown member token, a resend of the first event and the second event id with another payload; checks
// every acknowledgement (in the order sent); then Redeem (unary) once, and once more for a duplicate.
// The contract is loaded at run time from protos/hlmhub/v1/redemption.proto with @grpc/proto-loader (google/api's
// annotations from protobufjs, which proto-loader depends on).
// Configuration from the environment (never the command line): HLMHUB_CLIENT_ID, HLMHUB_CLIENT_SECRET, HLMHUB_OFFER,
// HLMHUB_MEMBERS (member tokens of club members, comma-separated).
//
// Usage: node redemption_client.js --target 127.0.0.1:5080 --token-url http://127.0.0.1:5081/connect/token --proto-root protos
// Prints one "PASS name" or "FAIL name: reason" line per check and "EVENT id redemption_id discount" per accepted
// event; exit code 0 when all passed, 1 when one failed, 2 on a set-up error.

const crypto = require('crypto');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const EVENTS = 50;

function parseArguments(argv) {
  const result = {};
  for (let index = 0; index < argv.length; index += 2) {
    if (!argv[index].startsWith('--') || index + 1 >= argv.length) {
      throw new Error(`unexpected argument ${argv[index]}`);
    }
    result[argv[index].slice(2)] = argv[index + 1];
  }
  return result;
}

async function getToken(tokenUrl, clientId, secret) {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'hlmhub.redemptions' }).toString(),
  });
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

function streamAll(client, events, metadata) {
  return new Promise((resolve, reject) => {
    const acks = [];
    const call = client.StreamRedemptions(metadata, { deadline: new Date(Date.now() + 60_000) });
    call.on('data', (ack) => acks.push(ack));
    call.on('error', reject);
    call.on('end', () => resolve(acks));
    events.forEach((event) => call.write(event));
    call.end();
  });
}

function unary(client, event, metadata) {
  return new Promise((resolve, reject) => {
    client.Redeem(event, metadata, { deadline: new Date(Date.now() + 30_000) }, (error, ack) => (error ? reject(error) : resolve(ack)));
  });
}

async function main() {
  const args = parseArguments(process.argv.slice(2));
  const { HLMHUB_CLIENT_ID: clientId, HLMHUB_CLIENT_SECRET: secret, HLMHUB_OFFER: offer } = process.env;
  const members = (process.env.HLMHUB_MEMBERS || '').split(',').filter((member) => member);
  if (!args.target || !args['token-url'] || !args['proto-root'] || !clientId || !secret || !offer || members.length === 0) {
    console.error('usage: HLMHUB_CLIENT_ID=... HLMHUB_CLIENT_SECRET=... HLMHUB_OFFER=... HLMHUB_MEMBERS=... node redemption_client.js --target HOST:PORT --token-url URL --proto-root DIR');
    return 2;
  }
  let RedemptionService;
  try {
    const definition = protoLoader.loadSync('hlmhub/v1/redemption.proto', {
      includeDirs: [path.resolve(args['proto-root']), path.dirname(require.resolve('protobufjs/package.json'))],
      keepCase: true, defaults: true, enums: String, longs: Number,
    });
    RedemptionService = grpc.loadPackageDefinition(definition).hlmhub.v1.RedemptionService;
  } catch (error) {
    console.error(`set-up failed: ${error.message}`);
    return 2;
  }

  let failures = 0;
  const check = (name, condition, reason = '') => {
    if (condition) {
      console.log(`PASS ${name}`);
    } else {
      failures += 1;
      console.log(`FAIL ${name}: ${reason}`);
    }
  };

  let token;
  try {
    token = await getToken(args['token-url'], clientId, secret);
  } catch (error) {
    console.error(`token request failed: ${error.message}`);
    return 2;
  }
  check('token_from_endpoint', token.split('.').length === 3, 'not a JWT');
  const metadata = new grpc.Metadata();
  metadata.add('authorization', `Bearer ${token}`);
  const run = crypto.randomBytes(4).toString('hex');
  const now = () => {
    const milliseconds = Date.now();
    return { seconds: Math.floor(milliseconds / 1000), nanos: (milliseconds % 1000) * 1_000_000 };
  };
  const event = (index, purchase, { discount, member, eventId } = {}) => ({
    event_id: eventId || `node-${run}-${index}`,
    offer_id: offer,
    member_token: member || members[index % members.length],
    occurred_at: now(),
    purchase_cents: purchase,
    discount_cents: discount === undefined ? Math.floor(purchase / 10) : discount,
  });

  const sent = [];
  for (let i = 0; i < EVENTS; i += 1) sent.push([event(i, 1_000 + 37 * i), 'accepted']);
  sent.push([event(EVENTS, 2_000, { discount: 150 }), 'discount_mismatch']);
  sent.push([event(EVENTS + 1, 2_000, { member: `mt_${crypto.randomBytes(16).toString('hex')}` }), 'unknown_member']);
  sent.push([sent[0][0], 'duplicate']);
  sent.push([event(1, 9_990, { eventId: sent[1][0].event_id }), 'idempotency_conflict']);

  const client = new RedemptionService(args.target, grpc.credentials.createInsecure());
  const acks = await streamAll(client, sent.map(([e]) => e), metadata);
  check('one_ack_per_event', acks.length === sent.length, `${acks.length} acks for ${sent.length} events`);
  check('acks_in_sending_order', acks.every((ack, index) => ack.event_id === sent[index][0].event_id), 'acknowledgements came back in another order');
  const accepted = sent.map(([e, expected], index) => [e, expected, acks[index]]).filter(([, expected]) => expected === 'accepted');
  const wrong = accepted.find(([e, , ack]) => !ack || ack.outcome !== 'REDEMPTION_OUTCOME_ACCEPTED'
    || ack.computed_discount_cents !== Math.floor(e.purchase_cents / 10) || !ack.redemption_id || ack.period.length !== 7);
  check('accepted_with_computed_discount', wrong === undefined, wrong ? JSON.stringify(wrong[2]) : '');
  check('accepted_ids_distinct', new Set(accepted.map(([, , ack]) => ack && ack.redemption_id)).size === accepted.length, 'a redemption id repeats');
  const answer = (expected) => acks[sent.findIndex(([, x]) => x === expected)] || {};
  const mismatch = answer('discount_mismatch');
  check('discount_mismatch_rejected', mismatch.outcome === 'REDEMPTION_OUTCOME_REJECTED' && mismatch.reason === 'REDEMPTION_REASON_DISCOUNT_MISMATCH'
    && mismatch.computed_discount_cents === 200 && mismatch.message !== '', JSON.stringify(mismatch));
  const unknown = answer('unknown_member');
  check('unknown_member_rejected', unknown.outcome === 'REDEMPTION_OUTCOME_REJECTED' && unknown.reason === 'REDEMPTION_REASON_UNKNOWN_MEMBER'
    && unknown.message !== '', JSON.stringify(unknown));
  const duplicate = answer('duplicate');
  check('resend_is_duplicate_with_first_answer', duplicate.outcome === 'REDEMPTION_OUTCOME_DUPLICATE'
    && duplicate.first_outcome === 'REDEMPTION_OUTCOME_ACCEPTED' && duplicate.redemption_id === acks[0].redemption_id
    && duplicate.computed_discount_cents === acks[0].computed_discount_cents, JSON.stringify(duplicate));
  const conflict = answer('idempotency_conflict');
  check('same_id_other_payload_is_conflict', conflict.outcome === 'REDEMPTION_OUTCOME_REJECTED'
    && conflict.reason === 'REDEMPTION_REASON_IDEMPOTENCY_CONFLICT', JSON.stringify(conflict));

  const single = event(EVENTS + 2, 4_321);
  const first = await unary(client, single, metadata);
  check('redeem_accepted', first.outcome === 'REDEMPTION_OUTCOME_ACCEPTED' && first.computed_discount_cents === 432 && first.redemption_id !== '', JSON.stringify(first));
  const again = await unary(client, single, metadata);
  check('redeem_resend_is_duplicate', again.outcome === 'REDEMPTION_OUTCOME_DUPLICATE' && again.redemption_id === first.redemption_id, JSON.stringify(again));
  try {
    await unary(client, single, new grpc.Metadata());
    check('no_token_is_unauthenticated', false, 'the call was served');
  } catch (error) {
    check('no_token_is_unauthenticated', error.code === grpc.status.UNAUTHENTICATED, `${error.code} ${error.details}`);
  }
  for (const [e, , ack] of accepted) console.log(`EVENT ${e.event_id} ${ack.redemption_id} ${ack.computed_discount_cents}`);
  console.log(`EVENT ${single.event_id} ${first.redemption_id} ${first.computed_discount_cents}`);
  client.close();
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => { console.error(error); process.exit(2); });
