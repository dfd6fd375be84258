'use strict';
// A partner streams redemptions to HlmHub with @grpc/grpc-js, and resends what was not acknowledged after a broken
// stream. The same steps as examples/python/partner_redemptions.py (see its comments and examples/README.md):
// a token, the first redeemable offer (ListOffers), a few eligible members (the Watch snapshot), one redemption per
// member over StreamRedemptions, the first stream broken after HLMHUB_BREAK_AFTER acknowledgements (default 2, 0:
// never) and the unacknowledged tail resent; resent events the hub had committed come back DUPLICATE.
//
// Run: cd examples/node && npm ci && node partner_redemptions.js. Exit code 0 when every event was accepted.
const crypto = require('crypto');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { accessToken, explain, Failure, GRPC_ADDRESS } = require('./hub');

const NEEDS = 'scope hlmhub.redemptions (and hlmhub.offers.read) from a partner client';
const PURCHASE_CENTS = 1200;

function loadServices() {
  // redemption.proto imports google/api/annotations.proto (its JSON mapping): protobufjs ships that file.
  const definition = protoLoader.loadSync(['hlmhub/v1/eligibility.proto', 'hlmhub/v1/redemption.proto'], {
    includeDirs: [path.resolve(__dirname, '../../protos'), path.dirname(require.resolve('protobufjs/package.json'))],
    keepCase: true, defaults: true, enums: String, longs: Number,
  });
  return grpc.loadPackageDefinition(definition).hlmhub.v1;
}

// The discount the hub computes for a fixed or percentage offer: it rejects any other amount.
function discount(terms, purchaseCents) {
  if (terms.fixed_discount_cents != null) return terms.fixed_discount_cents;
  const amount = Math.floor((purchaseCents * terms.percent_basis_points) / 10000);
  return terms.percent_cap_cents != null ? Math.min(amount, terms.percent_cap_cents) : amount;
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => client[method](request, metadata, { deadline: Date.now() + 30000 },
    (error, response) => (error ? reject(new Failure(explain(error, NEEDS))) : resolve(response))));
}

async function eligibleMembers(partner, metadata) {
  if (process.env.HLMHUB_MEMBER_TOKENS) return process.env.HLMHUB_MEMBER_TOKENS.split(',').filter(Boolean);
  const members = [];
  const watch = partner.Watch({}, metadata);
  try {
    for await (const update of watch) {
      members.push(...update.entries.filter((entry) => entry.eligible).map((entry) => entry.member_token));
      if (members.length >= 5 || update.cursor) break;
    }
  } catch (error) {
    throw new Failure(explain(error, NEEDS));
  } finally {
    watch.cancel();
  }
  return members.slice(0, 5);
}

// One stream: sends every pending event, removes each from `pending` as its acknowledgement comes back.
function stream(service, metadata, pending, breakAfter, counts) {
  return new Promise((resolve, reject) => {
    const call = service.StreamRedemptions(metadata, { deadline: Date.now() + 60000 });
    let received = 0;
    let broken = false;
    call.on('data', (ack) => {
      if (broken) return;
      pending.delete(ack.event_id);
      received += 1;
      const first = ack.first_outcome.replace('REDEMPTION_OUTCOME_', '');
      let line = `ack ${ack.event_id} ${ack.outcome.replace('REDEMPTION_OUTCOME_', '')}`;
      if (ack.outcome === 'REDEMPTION_OUTCOME_DUPLICATE') line += ` (first answer ${first})`;
      line += ` discount=${ack.computed_discount_cents} period=${ack.period}`;
      if (ack.reason !== 'REDEMPTION_REASON_UNSPECIFIED') line += ` reason=${ack.reason}: ${ack.message}`;
      console.log(line);
      if (ack.reason === 'REDEMPTION_REASON_NOT_YOUR_OFFER') {
        console.log('hint: the offer is unknown or not yours: list yours with EligibilityService.ListOffers, or unset HLMHUB_OFFER');
      }
      if (ack.outcome === 'REDEMPTION_OUTCOME_ACCEPTED' || first === 'ACCEPTED') counts.accepted += 1;
      if (received === breakAfter && pending.size > 0) {
        console.log(`breaking the stream after ${received} acknowledgements (demo of a lost connection)`);
        broken = true;
        call.cancel();
        resolve();
      }
    });
    call.on('error', (error) => {
      if (error.code === grpc.status.CANCELLED) resolve();
      else reject(error);
    });
    call.on('end', resolve);
    for (const event of pending.values()) call.write(event);
    call.end();
  });
}

async function main() {
  const v1 = loadServices();
  const metadata = new grpc.Metadata();
  metadata.add('authorization', `Bearer ${await accessToken('demo-partner-bakery')}`);
  const partner = new v1.EligibilityService(GRPC_ADDRESS, grpc.credentials.createInsecure());
  const { offers } = await unary(partner, 'ListOffers', {}, metadata);
  const wanted = process.env.HLMHUB_OFFER;
  const offer = offers.find((o) => (wanted ? o.offer_id === wanted : o.redeemable_now))
    ?? (wanted ? { offer_id: wanted, title: 'as given', terms: { fixed_discount_cents: 0 } } : null);
  if (!offer) throw new Failure('this partner has no redeemable offer: ask the club\'s administrator for a contract and an offer');
  const members = await eligibleMembers(partner, metadata);
  if (members.length === 0) throw new Failure('no eligible member to redeem for: set HLMHUB_MEMBER_TOKENS (comma-separated)');
  console.log(`offer ${offer.offer_id} (${offer.title}), ${members.length} members`);

  const runId = process.env.HLMHUB_RUN_ID || crypto.randomBytes(6).toString('hex');
  // A resent event must be the same event: same id, same payload, occurred_at included.
  const occurredAt = process.env.HLMHUB_OCCURRED_AT ? new Date(process.env.HLMHUB_OCCURRED_AT) : new Date();
  const pending = new Map(); // event_id -> event, in the order sent: what was not acknowledged yet
  members.forEach((member, index) => {
    const eventId = `bakery-${runId}-${index + 1}`;
    pending.set(eventId, {
      event_id: eventId, offer_id: offer.offer_id, member_token: member, purchase_cents: PURCHASE_CENTS,
      discount_cents: discount(offer.terms, PURCHASE_CENTS),
      occurred_at: { seconds: Math.floor(occurredAt / 1000), nanos: (occurredAt % 1000) * 1e6 },
    });
  });

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
      if (error.code !== grpc.status.UNAVAILABLE || attempts >= 5) throw new Failure(explain(error, NEEDS));
      console.log(`stream broken (${error.details}): retrying in ${attempts} s`);
      await new Promise((resolve) => setTimeout(resolve, attempts * 1000));
    }
  }
  console.log(`done: ${counts.accepted} of ${members.length} redemptions accepted, in ${attempts} streams`);
  return counts.accepted === members.length ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`error: ${error instanceof Failure ? error.message : error.stack}`);
  process.exit(1);
});
