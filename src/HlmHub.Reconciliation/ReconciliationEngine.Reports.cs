using System.Linq.Expressions;
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
    /// redemptions and the savings alike, each in the month it happened in (in Paris, from
    /// <see cref="Redemption.OccurredAt"/>), not the month it was booked in: a redemption that arrived after its month
    /// was closed is booked in the next open month, but the tenant saved in the month it happened. A cancelled
    /// redemption and its cancellation therefore drop out together, and no month or household shows negative savings.
    /// Aggregated in SQL.
    /// </summary>
    public async Task<SavingsReport> GetSavingsReportAsync(string clubId, Period from, Period to, CancellationToken cancellationToken)
    {
        if (to < from || ((to.Year - from.Year) * 12) + to.Month - from.Month >= MaxSavingsReportMonths)
        {
            throw new DomainException(DomainErrorKind.InvalidArgument, "to_period", $"must be from_period or later, at most {MaxSavingsReportMonths} months in all");
        }

        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var fromKey = from.Key;
        var start = from.StartUtc;
        // Not to.EndUtc: the month after 2999-12 is not a Period, but its first instant is still a date.
        var end = Period.StartOfDayUtc(new DateOnly(to.Year, to.Month, 1).AddMonths(1));
        var months = new List<Period> { from };
        while (months[^1] < to)
        {
            months.Add(months[^1].Next());
        }

        var cancellations = db.Redemptions.Where(cancellation => cancellation.Kind == RedemptionKind.Cancellation && cancellation.Outcome == RedemptionOutcome.Accepted);
        var rows = OccurrenceMonths.Inline(
            db.Redemptions.AsNoTracking()
                .Where(redemption => redemption.ClubId == clubId && redemption.Outcome == RedemptionOutcome.Accepted
                    && redemption.Kind == RedemptionKind.Redemption
                    // A redemption is booked in the month it happened or a later one (never an earlier one), so this
                    // lets the (club, period) index narrow the scan without leaving out a late-booked redemption.
                    && StorageFunctions.PeriodKey(redemption.Period) >= fromKey
                    && redemption.OccurredAt >= start && redemption.OccurredAt < end
                    && !cancellations.Any(cancellation => cancellation.CancelsRedemptionId == redemption.Id))
                .Join(db.Partners, redemption => redemption.PartnerId, partner => partner.Id, (redemption, partner) => new
                {
                    Month = OccurrenceMonths.KeyOf(redemption.OccurredAt),
                    partner.Kind,
                    Household = redemption.HouseholdId,
                    Cents = StorageFunctions.Cents(redemption.ComputedDiscount),
                }),
            months);
        var byMonthAndKind = await rows
            .GroupBy(row => new { row.Month, row.Kind })
            .Select(group => new
            {
                group.Key.Month,
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
            .GroupBy(row => row.Month)
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
            [.. byMonthAndKind.OrderBy(row => row.Month).ThenBy(row => row.Kind)
                .Select(row => new SavingsFigure(Period.FromKey(row.Month), row.Kind, row.Households, row.Redemptions, new Money(row.Cents)))],
            [.. byKind.OrderBy(row => row.Key).Select(row => new SavingsFigure(null, row.Key, row.Households, row.Redemptions, new Money(row.Cents)))],
            [.. byMonth.OrderBy(row => row.Key).Select(row => new SavingsFigure(Period.FromKey(row.Key), null, row.Households, row.Redemptions, new Money(row.Cents)))],
            new SavingsFigure(null, null, totalHouseholds, totalRedemptions, new Money(totalCents)));
    }
}

/// <summary>
/// The month (in Paris) an instant falls in, inside a query: <see cref="KeyOf"/> marks where, and <see cref="Inline"/>
/// replaces it with a comparison of the stored instant against the first instant of each month of a known range. No
/// provider can be asked for the Paris month of an instant in SQL the same way (SQLite has no time zones), while
/// comparing instants is plain SQL everywhere. The months are searched by halves, so 120 months nest CASE only 7
/// deep (SQL Server allows 10).
/// </summary>
internal static class OccurrenceMonths
{
    /// <summary>
    /// The <c>yyyymm</c> key of the month <paramref name="instant"/> falls in, among the months given to
    /// <see cref="Inline"/>; only inside a query that <see cref="Inline"/> rewrites.
    /// </summary>
    public static int KeyOf(DateTimeOffset instant) =>
        throw new InvalidOperationException($"{nameof(OccurrenceMonths)}.{nameof(KeyOf)}({instant:O}) is only for queries rewritten by {nameof(Inline)}.");

    /// <summary>
    /// The query with every <see cref="KeyOf"/> replaced by a search of <paramref name="months"/> (consecutive,
    /// ascending); the query must only read instants inside them.
    /// </summary>
    public static IQueryable<T> Inline<T>(IQueryable<T> query, IReadOnlyList<Period> months) =>
        query.Provider.CreateQuery<T>(new Rewriter(months).Visit(query.Expression));

    private sealed class Rewriter(IReadOnlyList<Period> months) : ExpressionVisitor
    {
        protected override Expression VisitMethodCall(MethodCallExpression node) =>
            node.Method.DeclaringType == typeof(OccurrenceMonths) && node.Method.Name == nameof(KeyOf)
                ? Search(Visit(node.Arguments[0]), 0, months.Count - 1)
                : base.VisitMethodCall(node);

        private Expression Search(Expression instant, int first, int last)
        {
            if (first == last)
            {
                return Expression.Constant(months[first].Key);
            }

            var middle = (first + last + 1) / 2;
            return Expression.Condition(
                Expression.LessThan(instant, Expression.Constant(months[middle].StartUtc)),
                Search(instant, first, middle - 1),
                Search(instant, middle, last));
        }
    }
}
