using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Fees;

/// <summary>What became of one fee the run found due.</summary>
internal enum FeeBookingOutcome
{
    /// <summary>Booked now.</summary>
    Booked,

    /// <summary>Booked before, by this run's predecessor or another node.</summary>
    AlreadyBooked,

    /// <summary>Not due any more: the contract's end was moved back before it since the run read the contract.</summary>
    NoLongerDue,

    /// <summary>Not booked: the club closed the month it was booked in after the run read the closed months.</summary>
    PeriodClosedMeanwhile,
}

/// <summary>What one accrual run did.</summary>
internal sealed record FeeAccrualResult(DateOnly Today, int ContractsRead, int Booked, int AlreadyBooked);

/// <summary>
/// Books every partner fee that has fallen due (up to today in Paris) and is not booked yet, for every contract
/// (<see cref="FeeBooking"/>). Idempotent: the ledger's unique idempotency key (one accrual per contract and
/// anniversary month) makes a second run, or a concurrent one on another node, book nothing.
/// </summary>
internal sealed class FeeAccrualService(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<FeeOptions> options,
    TimeProvider timeProvider,
    ILogger<FeeAccrualService> logger)
{
    /// <summary>Books what is due for every contract (the daily job).</summary>
    public Task<FeeAccrualResult> AccrueAsync(CancellationToken cancellationToken) => AccrueAsync(clubId: null, cancellationToken);

    /// <summary>Books what is due for <paramref name="clubId"/>'s contracts only (the demo seed), or every contract when null.</summary>
    public async Task<FeeAccrualResult> AccrueAsync(string? clubId, CancellationToken cancellationToken)
    {
        var today = Period.DayOf(timeProvider.GetUtcNow());
        var closedPeriodsByClub = new Dictionary<string, IReadOnlyCollection<Period>>(StringComparer.Ordinal);
        int contractsRead = 0, booked = 0, alreadyBooked = 0;
        string? after = null;
        while (true)
        {
            var batch = await ReadContractsAsync(clubId, after, options.Value.ContractBatchSize, cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            contractsRead += batch.Count;
            after = batch[^1].Id;
            var due = batch
                .SelectMany(contract => FeeBooking.DueDatesBetween(contract, contract.StartDate, today)
                    .Select(dueDate => (Contract: contract, DueDate: dueDate, Key: FeeBooking.AccrualKey(contract, dueDate))))
                .ToList();
            var keys = due.Select(fee => fee.Key).ToList();
            HashSet<string> bookedKeys;
            await using (var db = await dbContextFactory.CreateDbContextAsync(cancellationToken))
            {
                bookedKeys = (await db.LedgerTransactions.AsNoTracking()
                    .Where(transaction => keys.Contains(transaction.IdempotencyKey))
                    .Select(transaction => transaction.IdempotencyKey)
                    .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
            }

            foreach (var fee in due)
            {
                if (bookedKeys.Contains(fee.Key))
                {
                    alreadyBooked++;
                    continue;
                }

                if (!closedPeriodsByClub.TryGetValue(fee.Contract.ClubId, out var closed))
                {
                    closed = await ReadClosedPeriodsAsync(fee.Contract.ClubId, cancellationToken);
                    closedPeriodsByClub[fee.Contract.ClubId] = closed;
                }

                var outcome = await BookAsync(fee.Contract, fee.DueDate, closed, cancellationToken);
                if (outcome == FeeBookingOutcome.PeriodClosedMeanwhile)
                {
                    // The club closed a month while the run went through its contracts: read its closed months again
                    // and book once more, in the next open month. A second refusal (another month closed in between)
                    // fails the run; the next one books the fee.
                    closed = await ReadClosedPeriodsAsync(fee.Contract.ClubId, cancellationToken);
                    closedPeriodsByClub[fee.Contract.ClubId] = closed;
                    outcome = await BookAsync(fee.Contract, fee.DueDate, closed, cancellationToken);
                    if (outcome == FeeBookingOutcome.PeriodClosedMeanwhile)
                    {
                        throw new InvalidOperationException(
                            $"The fee of contract '{fee.Contract.Id}' due on {fee.DueDate:yyyy-MM-dd} was refused twice by the closed-month guard; the next run books it.");
                    }
                }

                switch (outcome)
                {
                    case FeeBookingOutcome.Booked:
                        booked++;
                        break;
                    case FeeBookingOutcome.AlreadyBooked:
                        alreadyBooked++;
                        break;
                    default:
                        break; // the contract changed since it was read: the fee is not due under its new terms
                }
            }
        }

        FeeLog.AccrualFinished(logger, today, booked, alreadyBooked, contractsRead);
        return new FeeAccrualResult(today, contractsRead, booked, alreadyBooked);
    }

    /// <summary>
    /// Books the fee of <paramref name="readEarlier"/> (the contract as the run read it) that fell due on
    /// <paramref name="dueDate"/>, if it is still due once the contract is locked and read again: an administrator may
    /// have moved its end date back meanwhile (<c>AdminService.EndContract</c> takes the same lock, and refuses an end
    /// before a fee already booked). Not booked when another run booked it first (the unique idempotency key).
    /// </summary>
    internal async Task<FeeBookingOutcome> BookAsync(Contract readEarlier, DateOnly dueDate, IReadOnlyCollection<Period> closedPeriods, CancellationToken cancellationToken)
    {
        await EnsureAccountsAsync(readEarlier, cancellationToken);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await using var locked = await db.Database.BeginTransactionAsync(cancellationToken);
        await RowLocks.LockContractAsync(db, readEarlier.Id, cancellationToken);
        var contract = await db.Contracts.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == readEarlier.Id, cancellationToken);
        if (contract is null || !FeeBooking.DueDatesBetween(contract, dueDate, dueDate).Any())
        {
            return FeeBookingOutcome.NoLongerDue;
        }

        // The booking side of the club's month lock (RowLocks), before the closed-month guard runs: a close of the club
        // either waits for this commit (and sees the fee), or has committed first, and the guard refuses the booking
        // (PeriodClosedMeanwhile: read the closed months again). Never a fee committed into a month closed meanwhile.
        await RowLocks.ReadClubsForBookingAsync(db, [contract.ClubId], cancellationToken);
        var now = timeProvider.GetUtcNow();
        // A fee that fell due in a month the club has closed is booked in the next open month.
        var bookingPeriod = PeriodRules.BookingPeriod(new Period(dueDate.Year, dueDate.Month), closedPeriods);
        var transaction = FeeBooking.Accrual(Guid.CreateVersion7(now), contract, dueDate, bookingPeriod, now);
        db.LedgerTransactions.Add(transaction);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await locked.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            // Another node (or an overlapping recovery of this job) booked the same fee first: nothing to do.
            return FeeBookingOutcome.AlreadyBooked;
        }
        catch (DbUpdateException exception) when (StorageErrors.IsPeriodClosed(exception))
        {
            // The month was closed after the run read the closed months: nothing was written (the transaction rolls
            // back with this context); the caller reads them again and books in the next open month.
            return FeeBookingOutcome.PeriodClosedMeanwhile;
        }

        FeeLog.FeeBooked(logger, contract.Id, dueDate, bookingPeriod.ToString(), contract.YearlyFee.ToString());
        return FeeBookingOutcome.Booked;
    }

    /// <summary>The partner's fee accounts are created on first use; a concurrent creation by another run is fine.</summary>
    private async Task EnsureAccountsAsync(Contract contract, CancellationToken cancellationToken)
    {
        var needed = FeeBooking.Accounts(contract.ClubId, contract.PartnerId);
        var ids = needed.Select(account => account.Id).ToList();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var existing = await db.LedgerAccounts.AsNoTracking()
            .Where(account => ids.Contains(account.Id))
            .Select(account => account.Id)
            .ToListAsync(cancellationToken);
        var missing = needed.Where(account => !existing.Contains(account.Id)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        db.LedgerAccounts.AddRange(missing);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            // Created meanwhile by a concurrent run: the accounts exist, which is all that is needed.
        }
    }

    private async Task<List<Contract>> ReadContractsAsync(string? clubId, string? after, int batchSize, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Contracts.AsNoTracking();
        if (clubId is not null)
        {
            query = query.Where(contract => contract.ClubId == clubId);
        }

        if (after is not null)
        {
            query = query.Where(contract => string.Compare(contract.Id, after) > 0);
        }

        return await query.OrderBy(contract => contract.Id).Take(batchSize).ToListAsync(cancellationToken);
    }

    private async Task<IReadOnlyCollection<Period>> ReadClosedPeriodsAsync(string clubId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        return await db.PeriodClosures.AsNoTracking()
            .Where(closure => closure.ClubId == clubId)
            .Select(closure => closure.Period)
            .ToListAsync(cancellationToken);
    }
}
