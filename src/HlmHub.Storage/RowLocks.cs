using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage;

/// <summary>
/// Locks one row for the rest of the caller's transaction, so that a rule checked against what was read and then
/// written (what a club still owes a partner, whether a contract's fee is accrued) holds when two callers act at
/// once: the second waits, then reads what the first committed. Each lock is an update of the row that changes
/// nothing. PostgreSQL and SQL Server hold that row's write lock until commit, and at read committed each later
/// statement sees what was committed before it; SQLite has one writer at a time, and this write makes the
/// transaction that writer from its first statement. Provider-neutral and with no schema change, as the roster's
/// landlord lock (<c>RosterSync.LockLandlordAsync</c>). Each returns whether the row exists.
/// </summary>
public static class RowLocks
{
    /// <summary>Serialises what is checked and booked against one partner (subsidy settlements).</summary>
    public static async Task<bool> LockPartnerAsync(HlmHubDbContext db, string partnerId, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        return await db.Partners.Where(partner => partner.Id == partnerId)
            .ExecuteUpdateAsync(set => set.SetProperty(partner => partner.Name, partner => partner.Name), cancellationToken) == 1;
    }

    /// <summary>Serialises a contract's changes and the booking of its fees.</summary>
    public static async Task<bool> LockContractAsync(HlmHubDbContext db, string contractId, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        return await db.Contracts.Where(contract => contract.Id == contractId)
            .ExecuteUpdateAsync(set => set.SetProperty(contract => contract.Status, contract => contract.Status), cancellationToken) == 1;
    }

    /// <summary>Serialises recording a club's reconciliation runs (the monthly job's "unless up to date").</summary>
    public static async Task<bool> LockClubAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        return await db.Clubs.Where(club => club.Id == clubId)
            .ExecuteUpdateAsync(set => set.SetProperty(club => club.Name, club => club.Name), cancellationToken) == 1;
    }

    /// <summary>
    /// The closing side of a club's month lock, held until the transaction ends: it waits for every booking that holds
    /// the booking side (<see cref="ReadClubsForBookingAsync"/>) to commit, and no new booking of the club gets past its
    /// look at the closed months until this transaction has committed. So a close that locks, then checks the month
    /// (its dry run, on another connection, sees every booking committed before the lock) and then inserts the closure,
    /// sees everything the month holds, and nothing commits into the month after it. PostgreSQL: the club row
    /// <c>FOR UPDATE</c>; SQLite: the file's write lock; SQL Server: an exclusive application lock (docs/storage.md).
    /// </summary>
    public static async Task LockClubForClosingAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        await Providers.StorageProviderAdapter.Of(db).LockClubForClosingAsync(db, clubId, cancellationToken);
    }

    /// <summary>
    /// Reads the clubs a booking writes for, taking the booking side of their month lock, held until the transaction
    /// ends; call it before reading the clubs' closed months. Bookings share it; a close excludes it
    /// (<see cref="LockClubForClosingAsync"/>). PostgreSQL: the club rows <c>FOR KEY SHARE</c> (the lock a foreign-key
    /// check takes anyway); SQLite: nothing more than the transaction's write lock; SQL Server: shared application locks.
    /// </summary>
    public static async Task<List<Domain.Club>> ReadClubsForBookingAsync(HlmHubDbContext db, IReadOnlyCollection<string> clubIds, CancellationToken cancellationToken)
    {
        RequireTransaction(db);
        return clubIds.Count == 0 ? [] : await Providers.StorageProviderAdapter.Of(db).ReadClubsForBookingAsync(db, clubIds, cancellationToken);
    }

    // Outside a transaction the update would commit at once and lock nothing.
    private static void RequireTransaction(HlmHubDbContext db)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A row lock lasts until the transaction ends: begin one first.");
        }
    }
}
