using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>
/// A club with <c>n</c> partners, each with one contract starting on the same day, with ids that sort in the order
/// they were made (the accrual books contracts in id order). The same world can be added to several databases.
/// </summary>
internal sealed class FeeWorld
{
    public FeeWorld(int contracts, DateOnly start, Money? yearlyFee = null)
    {
        Partners = [.. Enumerable.Range(1, contracts).Select(index =>
            Partner.Create($"p{index:00}-{Sample.Suffix}", $"Partner {index}", PartnerKind.Merchant, null, SampleWorld.Siret(), true, SampleWorld.Now))];
        Contracts = [.. Partners.Select((partner, index) =>
            Contract.Create($"c{index + 1:00}-{Sample.Suffix}", Sample.Club, partner, yearlyFee, start, null, [], SampleWorld.Now))];
    }

    public SampleWorld Sample { get; } = new();

    public string ClubId => Sample.Club.Id;

    public IReadOnlyList<Partner> Partners { get; }

    public IReadOnlyList<Contract> Contracts { get; }

    public async Task AddToAsync(IDbContextFactory<HlmHubDbContext> factory)
    {
        await using var db = await factory.CreateDbContextAsync();
        db.AddRange(Sample.Landlord, Sample.Club);
        db.AddRange(Partners);
        db.AddRange(Contracts);
        await db.SaveChangesAsync().DefaultTimeout();
    }

    /// <summary>Every fee accrual in the ledger, as comparable text: key, period, and each entry.</summary>
    public static async Task<List<string>> AccrualsAsync(IDbContextFactory<HlmHubDbContext> factory)
    {
        await using var db = await factory.CreateDbContextAsync();
        var transactions = await db.LedgerTransactions.AsNoTracking().Include(transaction => transaction.Entries)
            .Where(transaction => transaction.Kind == TransactionKind.FeeAccrual)
            .ToListAsync().DefaultTimeout();
        return [.. transactions
            .Select(transaction => $"{transaction.IdempotencyKey} {transaction.Period} " + string.Join(", ", transaction.Entries
                .OrderBy(entry => entry.Line).Select(entry => $"{entry.Side} {entry.AccountId} {entry.Amount.Cents}")))
            .Order(StringComparer.Ordinal)];
    }
}
