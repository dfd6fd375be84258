using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Reconciliation;

/// <summary>A contract's fees as of a month's end: accrued, paid, outstanding (accrued less paid), overdue (past pay-by).</summary>
public sealed record FeeStatus(
    string ContractId, string PartnerId, string PartnerName, Money YearlyFee, Money Accrued, Money Paid, Money Outstanding, Money Overdue, DateOnly? LastDue, DateOnly? PayBy);

/// <summary>Tenants' savings for a month (null: the whole range) and a partner kind (null: every kind).</summary>
public sealed record SavingsFigure(Period? Period, PartnerKind? PartnerKind, long Households, long Redemptions, Money TotalSavings)
{
    /// <summary>Total savings per household, rounded down (zero without households).</summary>
    public Money AveragePerHousehold => Households == 0 ? Money.Zero : new Money(TotalSavings.Cents / Households);
}

/// <summary>The savings report: by month and kind, by kind, by month, and the total (the figure landlords publish).</summary>
public sealed record SavingsReport(
    string ClubId, Period From, Period To, IReadOnlyList<SavingsFigure> ByMonthAndKind, IReadOnlyList<SavingsFigure> ByPartnerKind, IReadOnlyList<SavingsFigure> ByMonth, SavingsFigure Total);

/// <summary>The reports the Admin API serves from the same figures reconciliation reads.</summary>
public sealed partial class ReconciliationEngine
{
    /// <summary>The longest range a savings report covers: 120 months.</summary>
    public const int MaxSavingsReportMonths = 120;

    /// <summary>Each contract's fees of a club as of the end of <paramref name="period"/> (or today while it runs).</summary>
    public async Task<IReadOnlyList<FeeStatus>> GetFeeReportAsync(string clubId, Period period, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var asOf = AsOfDay(period);
        var contracts = await db.Contracts.AsNoTracking().Where(contract => contract.ClubId == clubId)
            .Join(db.Partners, contract => contract.PartnerId, partner => partner.Id, (contract, partner) => new { Contract = contract, partner.Name })
            .ToListAsync(cancellationToken);
        // The same fees reconciliation judges, so the report and a run agree (a fee booked late counts in its own month).
        var fees = await FeeTransactionsAsync(db, clubId, period, asOf, cancellationToken);
        var lines = new List<FeeStatus>();
        foreach (var item in contracts.OrderBy(item => item.Contract.Id, StringComparer.Ordinal))
        {
            var contract = item.Contract;
            var accruals = fees.Where(fee => fee.IdempotencyKey.StartsWith($"{FeeAccrualKeyPrefix}{contract.Id}:", StringComparison.Ordinal))
                .OrderBy(fee => fee.OccurredAt).ToList();
            var paid = fees.Where(fee => fee.IdempotencyKey.StartsWith($"{FeePaymentKeyPrefix}{contract.Id}:", StringComparison.Ordinal)).Sum(fee => fee.Amount);
            var accrued = accruals.Sum(fee => fee.Amount);
            var remaining = paid;
            var overdue = 0L;
            foreach (var fee in accruals)
            {
                var covered = Math.Min(remaining, fee.Amount);
                remaining -= covered;
                if (covered < fee.Amount && FeeBooking.PayBy(Period.DayOf(fee.OccurredAt), _options.FeePaymentTermDays) < asOf)
                {
                    overdue += fee.Amount - covered;
                }
            }

            DateOnly? lastDue = accruals.Count == 0 ? null : Period.DayOf(accruals[^1].OccurredAt);
            lines.Add(new FeeStatus(
                contract.Id, contract.PartnerId, item.Name, contract.YearlyFee, new Money(accrued), new Money(paid),
                new Money(accrued - paid), new Money(overdue), lastDue, lastDue is { } due ? FeeBooking.PayBy(due, _options.FeePaymentTermDays) : null));
        }

        return lines;
    }

    /// <summary>
    /// Tenants' savings in a club over [<paramref name="from"/>, <paramref name="to"/>], net of cancellations: only the
    /// accepted redemptions that no accepted cancellation (of any month) cancels count, for the households, the
    /// redemptions and the savings alike, each in the month it happened in. A cancelled redemption and its
    /// cancellation therefore drop out together, and no month or household shows negative savings. Aggregated in SQL.
    /// </summary>
    public async Task<SavingsReport> GetSavingsReportAsync(string clubId, Period from, Period to, CancellationToken cancellationToken)
    {
        if (to < from || ((to.Year - from.Year) * 12) + to.Month - from.Month >= MaxSavingsReportMonths)
        {
            throw new DomainException(DomainErrorKind.InvalidArgument, "to_period", $"must be from_period or later, at most {MaxSavingsReportMonths} months in all");
        }

        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var fromKey = from.Key;
        var toKey = to.Key;
        var cancellations = db.Redemptions.Where(cancellation => cancellation.Kind == RedemptionKind.Cancellation && cancellation.Outcome == RedemptionOutcome.Accepted);
        var rows = db.Redemptions.AsNoTracking()
            .Where(redemption => redemption.ClubId == clubId && redemption.Outcome == RedemptionOutcome.Accepted
                && redemption.Kind == RedemptionKind.Redemption
                && StorageFunctions.PeriodKey(redemption.Period) >= fromKey && StorageFunctions.PeriodKey(redemption.Period) <= toKey
                && !cancellations.Any(cancellation => cancellation.CancelsRedemptionId == redemption.Id))
            .Join(db.Partners, redemption => redemption.PartnerId, partner => partner.Id, (redemption, partner) => new
            {
                redemption.Period,
                partner.Kind,
                Household = redemption.HouseholdId,
                Cents = StorageFunctions.Cents(redemption.ComputedDiscount),
            });
        var byMonthAndKind = await rows
            .GroupBy(row => new { row.Period, row.Kind })
            .Select(group => new
            {
                group.Key.Period,
                group.Key.Kind,
                Households = group.Where(row => row.Household != null).Select(row => row.Household).Distinct().Count(),
                Redemptions = group.LongCount(),
                Cents = group.Sum(row => row.Cents),
            })
            .ToListAsync(cancellationToken);
        var byKind = await rows
            .GroupBy(row => row.Kind)
            .Select(group => new
            {
                group.Key,
                Households = group.Where(row => row.Household != null).Select(row => row.Household).Distinct().Count(),
                Redemptions = group.LongCount(),
                Cents = group.Sum(row => row.Cents),
            })
            .ToListAsync(cancellationToken);
        var byMonth = await rows
            .GroupBy(row => row.Period)
            .Select(group => new
            {
                group.Key,
                Households = group.Where(row => row.Household != null).Select(row => row.Household).Distinct().Count(),
                Redemptions = group.LongCount(),
                Cents = group.Sum(row => row.Cents),
            })
            .ToListAsync(cancellationToken);
        var totalHouseholds = await rows.Where(row => row.Household != null).Select(row => row.Household).Distinct().LongCountAsync(cancellationToken);
        var totalRedemptions = await rows.LongCountAsync(cancellationToken);
        var totalCents = await rows.SumAsync(row => (long?)row.Cents, cancellationToken) ?? 0;
        return new SavingsReport(
            clubId,
            from,
            to,
            [.. byMonthAndKind.OrderBy(row => row.Period).ThenBy(row => row.Kind)
                .Select(row => new SavingsFigure(row.Period, row.Kind, row.Households, row.Redemptions, new Money(row.Cents)))],
            [.. byKind.OrderBy(row => row.Key).Select(row => new SavingsFigure(null, row.Key, row.Households, row.Redemptions, new Money(row.Cents)))],
            [.. byMonth.OrderBy(row => row.Key).Select(row => new SavingsFigure(row.Key, null, row.Households, row.Redemptions, new Money(row.Cents)))],
            new SavingsFigure(null, null, totalHouseholds, totalRedemptions, new Money(totalCents)));
    }
}
