using HlmHub.Domain;
using HlmHub.Domain.Roster;
using HlmHub.Observability;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace HlmHub.Server.Features.Roster;

/// <summary>
/// Writes the batches of one roster session, consecutive batches in one database transaction: committed once it
/// holds <see cref="RosterOptions.MaxItemsPerCommit"/> items, and whenever the caller commits
/// (<see cref="RosterService"/>: whenever the next message is not already there, so no transaction stays open while
/// the hub waits on the landlord). Each commit writes the session's progress with the
/// batches, so <see cref="RosterSession.LastSequence"/> is always the last committed item, where a broken stream
/// resumes. A commit costs a sync of the WAL, and the pages of a scattered index (the member tokens) are written once
/// per transaction however many of its batches touched them: on SQLite, a full snapshot of a million households in
/// transactions of ten batches took 13-20 % less time than in one per batch (docs/benchmarks.md). Disposing rolls
/// back what was not committed. Not thread-safe: one stream, one writer.
/// </summary>
internal sealed class RosterWriter(
    RosterSync sync,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    HubMetrics metrics,
    int maxItemsPerCommit,
    Guid sessionId,
    string landlordId) : IAsyncDisposable
{
    private readonly Dictionary<(RosterItemOutcome Outcome, RosterRejection Rejection), long> _uncommittedCounts = [];
    private HlmHubDbContext? _db;
    private IDbContextTransaction? _transaction;

    /// <summary>Items applied since the last commit.</summary>
    public int PendingItems { get; private set; }

    /// <summary>
    /// Applies one batch in the open transaction (beginning one if needed), commits once the transaction holds
    /// <see cref="RosterOptions.MaxItemsPerCommit"/> items, and returns the batch's results. Items at or
    /// before the session's last applied sequence were applied before a resume and are skipped (not in the results);
    /// one bad item never fails the batch. A batch refused as a whole (too large, over the session's limit,
    /// sequences out of order, a session not open) commits what came before it, then throws: as when each batch had
    /// its own transaction, the landlord resumes after the last good batch.
    /// </summary>
    public async Task<IReadOnlyList<RosterItemResult>> ApplyAsync(IReadOnlyList<RosterChange> batch, CancellationToken cancellationToken)
    {
        if (_db is null)
        {
            _db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
            if (_db.Database.IsSqlite())
            {
                // Opened by us, the connection stays open from one transaction to the next (EF Core closes only what
                // it opened), so SQLite compiles the session's bulk statements once (Storage's BulkStatements drops
                // them at each close). On PostgreSQL it goes back to the pool between transactions: a session
                // waiting on its landlord holds no server connection.
                await _db.Database.OpenConnectionAsync(cancellationToken);
            }
        }

        if (_transaction is not null && PendingItems + batch.Count > maxItemsPerCommit)
        {
            // Committed before, not only after, a batch that would take the transaction past the limit: the limit is
            // what the hub advertises as the most a broken stream resends beyond last_sequence (RosterLimits), and a
            // landlord may keep no more than that. With batches that do not divide it (999 against 10,000), committing
            // only once past it held up to a batch more. (Counted with the items a resume skips: a commit early, never late.)
            await CommitAsync(cancellationToken);
        }

        if (_transaction is null)
        {
            _transaction = await _db.Database.BeginTransactionAsync(cancellationToken);
            // Before the session is read: a session abandoned, or idle past its timeout and overtaken by another,
            // is read as such (RosterSync.LockLandlordAsync).
            await RosterSync.LockLandlordAsync(_db, landlordId, cancellationToken);
        }

        RosterSession session;
        List<RosterChange> fresh;
        try
        {
            (session, fresh) = await sync.CheckBatchAsync(_db, sessionId, landlordId, batch, cancellationToken);
        }
        catch (DomainException)
        {
            await CommitAsync(cancellationToken);
            throw;
        }

        var results = await sync.WriteBatchAsync(_db, session, landlordId, fresh, cancellationToken);
        PendingItems += fresh.Count;
        foreach (var result in results)
        {
            var key = (result.Outcome, result.Rejection);
            _uncommittedCounts[key] = _uncommittedCounts.GetValueOrDefault(key) + 1;
        }

        if (PendingItems >= maxItemsPerCommit)
        {
            await CommitAsync(cancellationToken);
        }

        return results;
    }

    /// <summary>Commits the batches applied since the last commit, if any.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_transaction is null)
        {
            return;
        }

        await _transaction.CommitAsync(cancellationToken);
        await _transaction.DisposeAsync();
        _transaction = null;
        PendingItems = 0;
        // Counted once committed: what the landlord is told was applied. One Add per kind, never one per household.
        foreach (var ((outcome, rejection), count) in _uncommittedCounts)
        {
            metrics.RecordRosterChanges(outcome, rejection, count);
        }

        _uncommittedCounts.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync();
        }

        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}
