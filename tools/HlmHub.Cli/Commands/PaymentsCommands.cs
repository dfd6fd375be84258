using System.CommandLine;
using Google.Protobuf.WellKnownTypes;
using HlmHub.Cli.Output;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary>
/// <c>hlmhub payments record</c>: books a partner's fee payment in the club's ledger; <c>hlmhub payments settle-subsidy</c>:
/// books the club's payment of co-funded discounts it owes a partner.
/// </summary>
internal static class PaymentsCommands
{
    public static Command Create(CliContext context)
    {
        var payments = new Command("payments", "Partners' fee payments");
        payments.Subcommands.Add(Record(context));
        payments.Subcommands.Add(SettleSubsidy(context));
        return payments;
    }

    private static Command Record(CliContext context)
    {
        var contract = new Option<string>("--contract") { Description = "The contract the fee is paid for", Required = true };
        var reference = new Option<string>("--reference") { Description = "The payer's reference (bank transfer id...): a retry with it books nothing twice", Required = true };
        var amount = Arguments.Euros("--amount", "The amount paid in euros, e.g. 100.00");
        var paidAt = Arguments.Instant("--paid-at", "When it was paid, ISO 8601 (default: now); decides the ledger month");
        var format = Tabular.FormatOption();
        var command = new Command("record", "Books a fee payment once per (contract, reference)") { contract, reference, amount, paidAt, format };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.RecordFeePaymentRequest
            {
                ContractId = parse.GetRequiredValue(contract),
                PaymentReference = parse.GetRequiredValue(reference),
                AmountCents = Arguments.ToCents(parse.GetRequiredValue(amount))!.Value,
                PaidAt = parse.GetValue(paidAt) is { } instant ? Timestamp.FromDateTimeOffset(instant) : null,
            };
            var payment = await session.CallAsync(options => session.Admin.RecordFeePaymentAsync(request, options), cancellationToken);
            var rows = new Tabular(payment.AlreadyRecorded ? "Fee payment (already recorded before)" : "Fee payment recorded", [
                new("transaction_id"), new("contract_id"), new("partner_id"), new("payment_reference"), new("amount_cents", ColumnKind.Cents),
                new("period"), new("recorded_at"), new("already_recorded", ColumnKind.Flag),
            ]);
            rows.Add(payment.TransactionId, payment.ContractId, payment.PartnerId, payment.PaymentReference, payment.AmountCents, payment.Period,
                Names.Of(payment.RecordedAt), payment.AlreadyRecorded);
            rows.Write(parse.GetValue(format), context.Console, context.Output);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SettleSubsidy(CliContext context)
    {
        var club = Arguments.Club();
        var partner = new Option<string>("--partner") { Description = "The partner the club pays its co-funded share of discounts to", Required = true };
        var reference = new Option<string>("--reference") { Description = "The club's reference (bank transfer id...): a retry with it books nothing twice", Required = true };
        var amount = Arguments.Euros("--amount", "The amount paid in euros, e.g. 25.00: at most what the club owes the partner");
        var paidAt = Arguments.Instant("--paid-at", "When it was paid, ISO 8601 (default: now); decides the ledger month");
        var format = Tabular.FormatOption();
        var command = new Command("settle-subsidy", "Books the club's payment of co-funded discounts to a partner, once per (partner, reference)")
        {
            club, partner, reference, amount, paidAt, format,
        };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.RecordSubsidySettlementRequest
            {
                ClubId = parse.GetRequiredValue(club),
                PartnerId = parse.GetRequiredValue(partner),
                PaymentReference = parse.GetRequiredValue(reference),
                AmountCents = Arguments.ToCents(parse.GetRequiredValue(amount))!.Value,
                PaidAt = parse.GetValue(paidAt) is { } instant ? Timestamp.FromDateTimeOffset(instant) : null,
            };
            var settlement = await session.CallAsync(options => session.Admin.RecordSubsidySettlementAsync(request, options), cancellationToken);
            var rows = new Tabular(settlement.AlreadyRecorded ? "Subsidy settlement (already recorded before)" : "Subsidy settlement recorded", [
                new("transaction_id"), new("club_id"), new("partner_id"), new("payment_reference"), new("amount_cents", ColumnKind.Cents),
                new("still_owed_cents", ColumnKind.Cents), new("period"), new("recorded_at"), new("already_recorded", ColumnKind.Flag),
            ]);
            rows.Add(settlement.TransactionId, settlement.ClubId, settlement.PartnerId, settlement.PaymentReference, settlement.AmountCents,
                settlement.StillOwedCents, settlement.Period, Names.Of(settlement.RecordedAt),
                settlement.AlreadyRecorded);
            rows.Write(parse.GetValue(format), context.Console, context.Output);
            return ExitCodes.Ok;
        });
        return command;
    }
}
