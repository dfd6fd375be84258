using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Observability;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Fees;

/// <summary>What one overdue check did.</summary>
internal sealed record OverdueFeeResult(DateOnly Today, int ContractsRead, int Recorded, int AlreadyRecorded);

/// <summary>
/// Finds the booked fees still outstanding after their pay-by day and records each once (<see cref="OverdueFee"/>,
/// keyed by contract and due date, so a second run records nothing). A contract's payments
/// (<see cref="IdempotencyKeys.FeePayment"/>) pay its fees oldest first: a fee is outstanding when the payments do
/// not cover it once every older fee is paid.
/// </summary>
internal sealed class OverdueFeeService(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<FeeOptions> options,
    HubMetrics metrics,
    TimeProvider timeProvider,
    ILogger<OverdueFeeService> logger)
{
    public async Task<OverdueFeeResult> CheckAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var today = Period.DayOf(now);
        int contractsRead = 0, recorded = 0, alreadyRecorded = 0;
        string? after = null;
        while (true)
        {
            List<Contract> batch;
            await using (var db = await dbContextFactory.CreateDbContextAsync(cancellationToken))
            {
                var query = db.Contracts.AsNoTracking();
                if (after is not null)
                {
                    query = query.Where(contract => string.Compare(contract.Id, after) > 0);
                }

                batch = await query.OrderBy(contract => contract.Id).Take(options.Value.ContractBatchSize).ToListAsync(cancellationToken);
            }

            if (batch.Count == 0)
            {
                break;
            }

            contractsRead += batch.Count;
            after = batch[^1].Id;
            foreach (var contract in batch)
            {
                foreach (var (dueDate, payBy, outstanding) in await FindOverdueAsync(contract, today, cancellationToken))
                {
                    if (await RecordAsync(OverdueFee.Record(contract, dueDate, payBy, outstanding, now), cancellationToken))
                    {
                        recorded++;
                    }
                    else
                    {
                        alreadyRecorded++;
                    }
                }
            }
        }

        FeeLog.OverdueCheckFinished(logger, today, recorded, alreadyRecorded, contractsRead);
        return new OverdueFeeResult(today, contractsRead, recorded, alreadyRecorded);
    }

    /// <summary>The contract's booked fees whose pay-by day is before <paramref name="today"/> and that payments do not cover.</summary>
    private async Task<List<(DateOnly DueDate, DateOnly PayBy, Money Outstanding)>> FindOverdueAsync(
        Contract contract, DateOnly today, CancellationToken cancellationToken)
    {
        var dueDates = FeeBooking.DueDatesBetween(contract, contract.StartDate, today).ToList();
        if (dueDates.Count == 0)
        {
            return [];
        }

        var keys = dueDates.ToDictionary(dueDate => FeeBooking.AccrualKey(contract, dueDate), StringComparer.Ordinal);
        var keyList = keys.Keys.ToList();
        var paymentPrefix = IdempotencyKeys.FeePayment(contract.Id, "");
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var accrued = await db.LedgerTransactions.AsNoTracking()
            .Where(transaction => transaction.Kind == TransactionKind.FeeAccrual && keyList.Contains(transaction.IdempotencyKey))
            .Select(transaction => new
            {
                transaction.IdempotencyKey,
                Amounts = transaction.Entries.Where(entry => entry.Side == EntrySide.Debit).Select(entry => entry.Amount).ToList(),
            })
            .ToListAsync(cancellationToken);
        var payments = await db.LedgerTransactions.AsNoTracking()
            .Where(transaction => transaction.Kind == TransactionKind.FeePayment && transaction.ClubId == contract.ClubId
                && transaction.IdempotencyKey.StartsWith(paymentPrefix))
            .SelectMany(transaction => transaction.Entries.Where(entry => entry.Side == EntrySide.Debit).Select(entry => entry.Amount))
            .ToListAsync(cancellationToken);

        var unpaidPayments = payments.Aggregate(Money.Zero, (sum, amount) => sum + amount);
        var overdue = new List<(DateOnly, DateOnly, Money)>();
        foreach (var fee in accrued
            .Select(fee => (DueDate: keys[fee.IdempotencyKey], Amount: fee.Amounts.Aggregate(Money.Zero, (sum, amount) => sum + amount)))
            .OrderBy(fee => fee.DueDate))
        {
            // Payments settle the oldest fees first.
            var covered = unpaidPayments >= fee.Amount ? fee.Amount : unpaidPayments;
            unpaidPayments -= covered;
            var outstanding = fee.Amount - covered;
            var payBy = FeeBooking.PayBy(fee.DueDate, options.Value.PaymentTermDays);
            if (outstanding > Money.Zero && payBy < today)
            {
                overdue.Add((fee.DueDate, payBy, outstanding));
            }
        }

        return overdue;
    }

    /// <summary>Records a late fee; false when it was already recorded (by an earlier run, or a concurrent one).</summary>
    private async Task<bool> RecordAsync(OverdueFee fee, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        if (await db.OverdueFees.AnyAsync(existing => existing.ContractId == fee.ContractId && existing.DueDate == fee.DueDate, cancellationToken))
        {
            return false;
        }

        db.OverdueFees.Add(fee);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            return false;
        }

        // Counted as soon as it is committed: a later contract's failure ends the check, and the next check finds
        // this fee already recorded, so a count left for the end of the check would never be made.
        metrics.RecordOverdueFees(1);
        FeeLog.FeeOverdue(logger, fee.ContractId, fee.DueDate, fee.Outstanding.ToString(), fee.PayBy, fee.PartnerId, fee.ClubId);
        return true;
    }
}
