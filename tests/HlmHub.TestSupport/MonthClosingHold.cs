using HlmHub.Storage;

namespace HlmHub.TestSupport;

/// <summary>
/// Closes a club's month from a connection of the test's own while a writer is between reading the closed months and
/// booking: the hold's transaction inserts the month's <c>PeriodClosures</c> row and, until it commits, keeps every
/// ledger booking waiting (SQLite: it holds the file's write lock, <c>BEGIN IMMEDIATE</c>; PostgreSQL: a SHARE lock on
/// <c>LedgerTransactions</c>, which an INSERT waits on before its triggers run). A writer that read the closed months
/// meanwhile read the month as open (the closure is not committed); <see cref="CommitAsync"/> then lets its booking go
/// on into the month just closed, which the database's closed-month guard refuses.
/// </summary>
public sealed class MonthClosingHold : IAsyncDisposable
{
    private readonly WriteHold _hold;

    private MonthClosingHold(WriteHold hold) => _hold = hold;

    /// <summary>Begins closing <paramref name="periodKey"/> (yyyyMM) of <paramref name="clubId"/>, holding ledger bookings.</summary>
    public static async Task<MonthClosingHold> BeginAsync(StorageProvider provider, string connectionString, string clubId, int periodKey)
    {
        var hold = await WriteHold.BeginAsync(provider, connectionString, "LedgerTransactions");
        try
        {
            await hold.ExecuteAsync(
                "INSERT INTO \"PeriodClosures\" (\"ClubId\", \"Period\", \"ClosedAt\") VALUES (@club, @period, @closedAt)",
                ("club", clubId), ("period", periodKey), ("closedAt", TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()));
            return new MonthClosingHold(hold);
        }
        catch
        {
            await hold.DisposeAsync();
            throw;
        }
    }

    /// <summary>Commits the closure: the held bookings go on.</summary>
    public Task CommitAsync() => _hold.CommitAsync();

    public ValueTask DisposeAsync() => _hold.DisposeAsync();
}
