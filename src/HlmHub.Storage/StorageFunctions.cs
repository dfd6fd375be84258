namespace HlmHub.Storage;

/// <summary>
/// Functions usable in LINQ queries over <see cref="HlmHubDbContext"/> and translated to SQL. Money columns are
/// stored as cents through a value converter, which EF Core cannot look inside; <see cref="Cents"/> exposes the
/// stored number so sums and comparisons run in the database, e.g.
/// <c>redemptions.SumAsync(r => StorageFunctions.Cents(r.ComputedDiscount))</c>.
/// </summary>
public static class StorageFunctions
{
    /// <summary>The amount in cents (in a query: the stored column itself).</summary>
    public static long Cents(HlmHub.Domain.Money amount) => amount.Cents;

    /// <summary>The amount in cents, or null (in a query: the stored column itself).</summary>
    public static long? Cents(HlmHub.Domain.Money? amount) => amount?.Cents;

    /// <summary>
    /// The period's sortable key <c>yyyymm</c> (in a query: the stored column itself), so months compare in SQL, e.g.
    /// <c>transactions.Where(t => StorageFunctions.PeriodKey(t.Period) &lt;= period.Key)</c>.
    /// </summary>
    public static int PeriodKey(HlmHub.Domain.Period period) => period.Key;
}
