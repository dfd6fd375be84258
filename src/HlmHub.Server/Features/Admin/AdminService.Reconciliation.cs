using System.Globalization;
using System.Threading.Channels;
using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Reconciliation;
using HlmHub.Identity;
using HlmHub.Reconciliation;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// Reconciliation, reports, the ledger and closing a month (issue 11; docs/reconciliation.md). Every rpc names a club
/// the caller must administer; the engine (src/HlmHub.Reconciliation) does the work, these rpcs translate.
/// </summary>
internal sealed partial class AdminService
{
    /// <summary>Progress messages queued for a slow client before older ones are dropped (only the latest matters).</summary>
    private const int ProgressQueueLength = 64;

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task RunReconciliation(V1.RunReconciliationRequest request, IServerStreamWriter<V1.RunReconciliationUpdate> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        AdminMapping.LookupId("club_id", request.ClubId);
        caller.EnsureOwns(OwnerKind.Club, request.ClubId);
        var period = Period.Parse("period", request.Period);
        using var slot = runningReconciliations.Acquire(
            request.ClubId,
            reconciliationOptions.Value.MaxConcurrentRunsPerClub,
            "club_id",
            static limit => $"the club already has {limit} reconciliations running on this instance; wait for one to end ({ReconciliationOptions.SectionName}:{nameof(ReconciliationOptions.MaxConcurrentRunsPerClub)} is {limit})");
        var queue = Channel.CreateBounded<ReconciliationProgress>(new BoundedChannelOptions(ProgressQueueLength)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        // The engine reports on its own thread; one writer task forwards to the stream, which takes one write at a time.
        var forwarding = Task.Run(
            async () =>
            {
                await foreach (var item in queue.Reader.ReadAllAsync(cancellationToken))
                {
                    await responseStream.WriteAsync(new V1.RunReconciliationUpdate { Progress = ToProto(item) }, cancellationToken);
                }
            },
            cancellationToken);
        ReconciliationReport report;
        try
        {
            report = await reconciliation.RunAsync(
                new ReconciliationRequest(request.ClubId, period, request.DryRun, caller.ClientId),
                new ChannelProgress(queue.Writer),
                cancellationToken);
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        await forwarding;
        AdminLog.Created(logger, caller.ClientId, request.DryRun ? "dry reconciliation" : "reconciliation", $"{request.ClubId} {period}");
        await responseStream.WriteAsync(new V1.RunReconciliationUpdate { Report = ToProto(report) }, cancellationToken);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ReconciliationReport> GetReconciliationReport(V1.GetReconciliationReportRequest request, ServerCallContext context)
    {
        var report = await FindRunAsync(context, request.ClubId, request.Period, request.RunId);
        return ToProto(report);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListDiscrepanciesResponse> ListDiscrepancies(V1.ListDiscrepanciesRequest request, ServerCallContext context)
    {
        // The first page picks the run (the one named, or the month's latest); its token carries that run, so a run
        // recorded between two pages does not turn the later pages into another run's (with offsets of the first).
        // The run is in the token; the kind, a filter of the run's list, is recorded with it.
        var filters = AdminPaging.Filters(nameof(ListDiscrepancies), ((int)request.Kind).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var page = AdminPaging.ReadScoped(request.PageSize, request.PageToken, filters, out var tokenRun);
        var runIdText = request.RunId;
        if (tokenRun is not null)
        {
            if (runIdText.Length > 0 && !(Guid.TryParse(runIdText, out var named) && named.ToString() == tokenRun))
            {
                throw AdminMapping.Invalid(
                    "page_token", $"is a page of run {tokenRun}, not of run_id '{runIdText}': send the first page's run_id (or none) with its next_page_token");
            }

            runIdText = tokenRun;
        }

        var report = await FindRunAsync(context, request.ClubId, request.Period, runIdText);
        DiscrepancyKind? kind = request.Kind == V1.DiscrepancyKind.Unspecified ? null : ToDomain(request.Kind);
        var runId = report.RunId!.Value.ToString();
        var items = await reconciliation.ListDiscrepanciesAsync(report.RunId.Value, kind, page.Offset, page.FetchCount, context.CancellationToken);
        var response = new V1.ListDiscrepanciesResponse { RunId = runId, NextPageToken = AdminPaging.NextToken(page, items.Count, runId, filters) };
        response.Discrepancies.AddRange(items.Take(page.Size).Select(ToProto));
        return response;
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.GetBalancesResponse> GetBalances(V1.GetBalancesRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        context.GetCaller().EnsureOwns(OwnerKind.Club, request.ClubId);
        Period? period = request.Period.Length == 0 ? null : Period.Parse("period", request.Period);
        var periodKey = period?.Key ?? int.MaxValue;
        var clubId = request.ClubId;
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await RequireClubAsync(db, "club_id", clubId, cancellationToken);
        var accounts = await db.LedgerAccounts.AsNoTracking().Where(account => account.ClubId == clubId).ToListAsync(cancellationToken);
        var sides = await db.LedgerEntries.AsNoTracking()
            .Join(
                db.LedgerTransactions.Where(transaction => transaction.ClubId == clubId && StorageFunctions.PeriodKey(transaction.Period) <= periodKey),
                entry => entry.TransactionId,
                transaction => transaction.Id,
                (entry, transaction) => entry)
            .GroupBy(entry => new { entry.AccountId, entry.Side })
            .Select(group => new { group.Key.AccountId, group.Key.Side, Cents = group.Sum(entry => StorageFunctions.Cents(entry.Amount)) })
            .ToListAsync(cancellationToken);
        var response = new V1.GetBalancesResponse { ClubId = clubId, Period = period?.ToString() ?? "" };
        foreach (var account in accounts.OrderBy(account => account.Id, StringComparer.Ordinal))
        {
            var debit = sides.Where(side => side.AccountId == account.Id && side.Side == EntrySide.Debit).Sum(side => side.Cents);
            var credit = sides.Where(side => side.AccountId == account.Id && side.Side == EntrySide.Credit).Sum(side => side.Cents);
            response.Balances.Add(new V1.AccountBalance
            {
                AccountId = account.Id,
                Kind = ToProto(account.Kind),
                PartnerId = account.PartnerId ?? "",
                DebitCents = debit,
                CreditCents = credit,
                BalanceCents = debit - credit,
            });
        }

        return response;
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListLedgerEntriesResponse> ListLedgerEntries(V1.ListLedgerEntriesRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        context.GetCaller().EnsureOwns(OwnerKind.Club, request.ClubId);
        Period? period = request.Period.Length == 0 ? null : Period.Parse("period", request.Period);
        var periodKey = period?.Key ?? 0;
        var clubId = request.ClubId;
        var accountId = AdminMapping.LookupId("account_id", request.AccountId);
        var filters = AdminPaging.Filters(nameof(ListLedgerEntries), clubId, period?.ToString() ?? "", accountId);
        // The ledger grows while it is paged, and not only at its end: a writer takes its recorded_at before it commits,
        // so bookings commit out of that order (and two instances' clocks differ). The token holds the last entry
        // returned, not a position: an entry that joins before it moves nothing onto the next page again.
        var page = AdminPaging.ReadFilteredAfterKey(request.PageSize, request.PageToken, filters);
        var after = page.After is null ? (LedgerPosition?)null : LedgerPosition.Parse(page.After);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // An unknown club is NOT_FOUND, as GetBalances answers, not an empty ledger.
        await RequireClubAsync(db, "club_id", clubId, cancellationToken);
        var joined = db.LedgerEntries.AsNoTracking()
            .Where(entry => accountId.Length == 0 || entry.AccountId == accountId)
            .Join(
                db.LedgerTransactions.Where(transaction => transaction.ClubId == clubId && (periodKey == 0 || StorageFunctions.PeriodKey(transaction.Period) == periodKey)),
                entry => entry.TransactionId,
                transaction => transaction.Id,
                (entry, transaction) => new { Entry = entry, Transaction = transaction });
        if (after is { } position)
        {
            var (afterRecordedAt, afterTransaction, afterLine) = (position.RecordedAt, position.TransactionId, position.Line);
            joined = joined.Where(item => item.Transaction.RecordedAt > afterRecordedAt
                || (item.Transaction.RecordedAt == afterRecordedAt
                    && (item.Transaction.Id.CompareTo(afterTransaction) > 0 || (item.Transaction.Id == afterTransaction && item.Entry.Line > afterLine))));
        }

        var entries = await joined
            .OrderBy(item => item.Transaction.RecordedAt).ThenBy(item => item.Transaction.Id).ThenBy(item => item.Entry.Line)
            .Take(page.FetchCount)
            .Select(item => new
            {
                item.Transaction.Id,
                item.Entry.Line,
                item.Transaction.IdempotencyKey,
                item.Transaction.Kind,
                item.Transaction.Period,
                item.Transaction.OccurredAt,
                item.Transaction.RecordedAt,
                item.Transaction.Description,
                item.Entry.AccountId,
                item.Entry.Side,
                item.Entry.Amount,
            })
            .ToListAsync(cancellationToken);
        var response = new V1.ListLedgerEntriesResponse
        {
            NextPageToken = AdminPaging.NextFilteredAfterKeyToken(page, [.. entries.Select(item => new LedgerPosition(item.RecordedAt, item.Id, item.Line).ToString())], filters),
        };
        response.Entries.AddRange(entries.Take(page.Size).Select(item => new V1.LedgerEntry
        {
            TransactionId = item.Id.ToString(),
            Line = item.Line,
            IdempotencyKey = item.IdempotencyKey,
            TransactionKind = item.Kind.ToString(),
            Period = item.Period.ToString(),
            OccurredAt = AdminMapping.ToProto(item.OccurredAt),
            RecordedAt = AdminMapping.ToProto(item.RecordedAt),
            Description = item.Description,
            AccountId = item.AccountId,
            Debit = item.Side == EntrySide.Debit,
            AmountCents = item.Amount.Cents,
        }));
        return response;
    }

    /// <summary>
    /// Closes a month only when every month before it, since the club's first, is closed, and its latest recorded run
    /// still describes it: a dry run now must read the same inputs (same fingerprint) and, unless the caller accepts
    /// them, find no discrepancies (nor may the run have found any). A caller that finds the month closed, before,
    /// while or after checking, is answered as for a closed month.
    /// </summary>
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ClosePeriodResponse> ClosePeriod(V1.ClosePeriodRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        caller.EnsureOwns(OwnerKind.Club, request.ClubId);
        var period = Period.Parse("period", request.Period);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var club = await RequireClubAsync(db, "club_id", request.ClubId, cancellationToken);
        var latest = await reconciliation.FindLatestRunAsync(request.ClubId, period, cancellationToken);
        if (await FindClosureAsync(db, request.ClubId, period, cancellationToken) is { } existing)
        {
            return ToProto(existing, alreadyClosed: true, latest);
        }

        // Said first: the other refusals below ask for a recorded run, which the engine refuses for this month anyway.
        if (period >= Period.Of(Now))
        {
            throw new DomainException(
                DomainErrorKind.FailedPrecondition,
                "period",
                $"{period} has not ended yet (in Paris): a month can be closed once it is over, reconciled (not a dry run) and its discrepancies settled or accepted");
        }

        var closure = PeriodClosure.Close(request.ClubId, period, Now);
        if (await FirstOpenMonthBeforeAsync(db, club, period, cancellationToken) is { } open)
        {
            throw new DomainException(
                DomainErrorKind.FailedPrecondition,
                "period",
                $"{open} is still open for club '{club.Id}': months close in order, so reconcile and close {open} first (a month left open before a closed one could still take bookings that change it)");
        }

        if (latest is null)
        {
            throw new DomainException(DomainErrorKind.FailedPrecondition, "period", $"{period} has no recorded reconciliation: run one (not a dry run) first");
        }

        // The month is checked and closed under the closing side of the club's month lock (RowLocks), which waits for
        // every booking of the club in progress (a redemption batch, a fee or subsidy payment, a fee accrual, a
        // statement) to commit and holds off new ones until the closure has committed. So the dry run below, which
        // reads on a connection of its own once the lock is held, sees every booking the month will ever hold, and a
        // booking that waited reads the closure and goes to the next open month. The club's writers wait for the
        // length of one dry run (docs/reconciliation.md).
        await using var closing = await db.Database.BeginTransactionAsync(cancellationToken);
        await RowLocks.LockClubForClosingAsync(db, request.ClubId, cancellationToken);
        // A concurrent or retried close may have won meanwhile: that caller's answer is this one's too.
        if (await FindClosureAsync(db, request.ClubId, period, cancellationToken) is { } closedMeanwhile)
        {
            return ToProto(closedMeanwhile, alreadyClosed: true, latest);
        }

        var now = await reconciliation.RunAsync(new ReconciliationRequest(request.ClubId, period, DryRun: true, caller.ClientId), null, cancellationToken);

        if (now.InputsFingerprint != latest.InputsFingerprint)
        {
            throw new DomainException(
                DomainErrorKind.FailedPrecondition, "period", $"{period} changed since reconciliation run {latest.RunId}: reconcile it again before closing");
        }

        // Equal fingerprints should mean equal findings; the dry run's own count is checked as well, so a closing never
        // rests on the recorded run alone.
        var discrepancies = Math.Max(now.DiscrepancyTotal, latest.DiscrepancyTotal);
        if (discrepancies > 0 && !request.AcceptDiscrepancies)
        {
            throw new DomainException(
                DomainErrorKind.FailedPrecondition,
                "accept_discrepancies",
                $"reconciliation run {latest.RunId} found {discrepancies} discrepancies in {period}: resolve them, or set accept_discrepancies to close anyway");
        }

        db.PeriodClosures.Add(closure);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await closing.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            // Closed by another caller between the check above and this insert (the closure's key is the club and month):
            // one that did not take the lock (a hub of an earlier version during an upgrade, a script).
            await closing.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            var winner = await FindClosureAsync(db, request.ClubId, period, cancellationToken) ?? throw new InvalidOperationException("The closure that won the race is gone.", exception);
            return ToProto(winner, alreadyClosed: true, latest);
        }

        AdminLog.Created(logger, caller.ClientId, "period closure", $"{request.ClubId} {period}");
        return ToProto(closure, alreadyClosed: false, latest);
    }

    /// <summary>
    /// The club's earliest open month before <paramref name="period"/> (<see cref="PeriodRules.FirstOpenBefore"/>),
    /// counted from the club's first month: the month it was created in (where the monthly job starts), or an earlier
    /// one holding a ledger transaction or an accepted redemption (a fee that fell due before the club joined the hub,
    /// a back-dated payment), since those are what a later month's reconciliation reads across months. Statements
    /// and rejected redemptions do not count: a run reads only its own month's, and a partner could otherwise date
    /// one years back and make the club close every month since.
    /// </summary>
    private static async Task<Period?> FirstOpenMonthBeforeAsync(HlmHubDbContext db, Club club, Period period, CancellationToken cancellationToken)
    {
        var clubId = club.Id;
        var periodKey = period.Key;
        var firstRedemption = await db.Redemptions
            .Where(redemption => redemption.ClubId == clubId && redemption.Outcome == RedemptionOutcome.Accepted)
            .MinAsync(redemption => (int?)StorageFunctions.PeriodKey(redemption.Period), cancellationToken);
        var firstTransaction = await db.LedgerTransactions
            .Where(transaction => transaction.ClubId == clubId)
            .MinAsync(transaction => (int?)StorageFunctions.PeriodKey(transaction.Period), cancellationToken);
        var firstKey = new[] { Period.Of(club.CreatedAt).Key, firstRedemption ?? int.MaxValue, firstTransaction ?? int.MaxValue }.Min();
        if (firstKey >= periodKey)
        {
            return null;
        }

        var closed = await db.PeriodClosures.AsNoTracking()
            .Where(closure => closure.ClubId == clubId && StorageFunctions.PeriodKey(closure.Period) < periodKey)
            .Select(closure => closure.Period)
            .ToListAsync(cancellationToken);
        return PeriodRules.FirstOpenBefore(period, Period.FromKey(firstKey), closed);
    }

    private static Task<PeriodClosure?> FindClosureAsync(HlmHubDbContext db, string clubId, Period period, CancellationToken cancellationToken) =>
        db.PeriodClosures.AsNoTracking().SingleOrDefaultAsync(closure => closure.ClubId == clubId && closure.Period == period, cancellationToken);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.GetFeeReportResponse> GetFeeReport(V1.GetFeeReportRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Club, request.ClubId);
        var period = Period.Parse("period", request.Period);
        await RequireClubExistsAsync(request.ClubId, context.CancellationToken);
        var lines = await reconciliation.GetFeeReportAsync(request.ClubId, period, context.CancellationToken);
        var response = new V1.GetFeeReportResponse { ClubId = request.ClubId, Period = period.ToString() };
        response.Lines.AddRange(lines.Select(line => new V1.FeeReportLine
        {
            ContractId = line.ContractId,
            PartnerId = line.PartnerId,
            PartnerName = line.PartnerName,
            YearlyFeeCents = line.YearlyFee.Cents,
            AccruedCents = line.Accrued.Cents,
            PaidCents = line.Paid.Cents,
            OutstandingCents = line.Outstanding.Cents,
            OverdueCents = line.Overdue.Cents,
            LastDueDate = line.LastDue?.ToString(AdminMapping.DateFormat, CultureInfo.InvariantCulture) ?? "",
            PayBy = line.PayBy?.ToString(AdminMapping.DateFormat, CultureInfo.InvariantCulture) ?? "",
        }));
        response.Total = new V1.FeeReportLine
        {
            YearlyFeeCents = lines.Sum(line => line.YearlyFee.Cents),
            AccruedCents = lines.Sum(line => line.Accrued.Cents),
            PaidCents = lines.Sum(line => line.Paid.Cents),
            OutstandingCents = lines.Sum(line => line.Outstanding.Cents),
            OverdueCents = lines.Sum(line => line.Overdue.Cents),
        };
        return response;
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.GetSavingsReportResponse> GetSavingsReport(V1.GetSavingsReportRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Club, request.ClubId);
        var from = Period.Parse("from_period", request.FromPeriod);
        var to = request.ToPeriod.Length == 0 ? from : Period.Parse("to_period", request.ToPeriod);
        await RequireClubExistsAsync(request.ClubId, context.CancellationToken);
        var report = await reconciliation.GetSavingsReportAsync(request.ClubId, from, to, context.CancellationToken);
        var response = new V1.GetSavingsReportResponse
        {
            ClubId = report.ClubId,
            FromPeriod = report.From.ToString(),
            ToPeriod = report.To.ToString(),
            Total = ToProto(report.Total),
        };
        response.ByMonthAndKind.AddRange(report.ByMonthAndKind.Select(ToProto));
        response.ByPartnerKind.AddRange(report.ByPartnerKind.Select(ToProto));
        response.ByMonth.AddRange(report.ByMonth.Select(ToProto));
        return response;
    }

    private async Task RequireClubExistsAsync(string clubId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await RequireClubAsync(db, "club_id", clubId, cancellationToken);
    }

    /// <summary>
    /// The run a request names (by id, or the month's latest), after the ownership check on its club. A run named by
    /// id must be of the month the request gives, if it gives one: the answer would otherwise be labelled with a
    /// month the run does not describe.
    /// </summary>
    private async Task<ReconciliationReport> FindRunAsync(ServerCallContext context, string clubId, string periodText, string runIdText)
    {
        AdminMapping.LookupId("club_id", clubId);
        context.GetCaller().EnsureOwns(OwnerKind.Club, clubId);
        ReconciliationReport? report;
        if (runIdText.Length > 0)
        {
            if (!Guid.TryParse(runIdText, out var runId))
            {
                throw AdminMapping.Invalid("run_id", "must be a run id returned by RunReconciliation");
            }

            Period? period = periodText.Length == 0 ? null : Period.Parse("period", periodText);
            report = await reconciliation.FindRunAsync(runId, context.CancellationToken);
            // Another club's run is answered like an unknown one.
            report = report?.ClubId == clubId ? report : null;
            if (report is not null && period is { } asked && report.Period != asked)
            {
                throw AdminMapping.Invalid(
                    "run_id", $"run {runIdText} reconciled {report.Period}, not period {asked}: give its own month, or no period");
            }
        }
        else
        {
            report = await reconciliation.FindLatestRunAsync(clubId, Period.Parse("period", periodText), context.CancellationToken);
        }

        return report ?? throw NotFound($"run_id: no recorded reconciliation run of club '{clubId}' {(runIdText.Length > 0 ? runIdText : periodText)}");
    }

    private static V1.ClosePeriodResponse ToProto(PeriodClosure closure, bool alreadyClosed, ReconciliationReport? run) => new()
    {
        ClubId = closure.ClubId,
        Period = closure.Period.ToString(),
        ClosedAt = AdminMapping.ToProto(closure.ClosedAt),
        AlreadyClosed = alreadyClosed,
        RunId = run?.RunId?.ToString() ?? "",
        DiscrepancyTotal = run?.DiscrepancyTotal ?? 0,
    };

    private static V1.ReconciliationProgress ToProto(ReconciliationProgress progress) => new()
    {
        Phase = progress.Phase,
        PhaseNumber = progress.PhaseNumber,
        PhaseCount = progress.PhaseCount,
        Done = progress.Done,
        Total = progress.Total,
    };

    private static V1.ReconciliationReport ToProto(ReconciliationReport report)
    {
        var proto = new V1.ReconciliationReport
        {
            RunId = report.RunId?.ToString() ?? "",
            ClubId = report.ClubId,
            Period = report.Period.ToString(),
            DryRun = report.DryRun,
            StartedBy = report.StartedBy,
            StartedAt = AdminMapping.ToProto(report.StartedAt),
            DurationMs = (long)report.Duration.TotalMilliseconds,
            PeriodClosed = report.PeriodClosed,
            Redemptions = report.Redemptions,
            Cancellations = report.Cancellations,
            DiscountTotalCents = report.DiscountTotal.Cents,
            PurchaseTotalCents = report.PurchaseTotal.Cents,
            Statements = report.Statements,
            LedgerTransactions = report.LedgerTransactions,
            DiscrepancyTotal = report.DiscrepancyTotal,
            DiscrepanciesTruncated = report.DiscrepanciesTruncated,
            InputsFingerprint = report.InputsFingerprint,
        };
        proto.DiscrepancyCounts.AddRange(report.DiscrepancyCounts.OrderBy(pair => pair.Key)
            .Select(pair => new V1.DiscrepancyCount { Kind = ToProto(pair.Key), Count = pair.Value }));
        proto.Discrepancies.AddRange(report.Discrepancies.Select(ToProto));
        return proto;
    }

    private static V1.Discrepancy ToProto(FoundDiscrepancy item) => new()
    {
        Kind = ToProto(item.Kind),
        PartnerId = item.PartnerId ?? "",
        OfferId = item.OfferId ?? "",
        ContractId = item.ContractId ?? "",
        PartnerEventId = item.PartnerEventId ?? "",
        AccountId = item.AccountId ?? "",
        ExpectedCents = item.ExpectedCents,
        ActualCents = item.ActualCents,
        ExpectedCount = item.ExpectedCount,
        ActualCount = item.ActualCount,
        Detail = item.Detail,
    };

    private static V1.SavingsRow ToProto(SavingsFigure figure) => new()
    {
        Period = figure.Period?.ToString() ?? "",
        PartnerKind = figure.PartnerKind is { } kind ? AdminMapping.ToProto(kind) : V1.PartnerKind.Unspecified,
        Households = figure.Households,
        Redemptions = figure.Redemptions,
        TotalSavingsCents = figure.TotalSavings.Cents,
        AverageSavingsPerHouseholdCents = figure.AveragePerHousehold.Cents,
    };

    private static V1.DiscrepancyKind ToProto(DiscrepancyKind kind) => kind switch
    {
        DiscrepancyKind.MissingAtPartner => V1.DiscrepancyKind.MissingAtPartner,
        DiscrepancyKind.MissingAtHub => V1.DiscrepancyKind.MissingAtHub,
        DiscrepancyKind.AmountMismatch => V1.DiscrepancyKind.AmountMismatch,
        DiscrepancyKind.Duplicate => V1.DiscrepancyKind.Duplicate,
        DiscrepancyKind.LedgerDrift => V1.DiscrepancyKind.LedgerDrift,
        DiscrepancyKind.FeeNotAccrued => V1.DiscrepancyKind.FeeNotAccrued,
        DiscrepancyKind.FeeOverdue => V1.DiscrepancyKind.FeeOverdue,
        DiscrepancyKind.SubsidyUnsettled => V1.DiscrepancyKind.SubsidyUnsettled,
        _ => V1.DiscrepancyKind.Unspecified,
    };

    private static DiscrepancyKind ToDomain(V1.DiscrepancyKind kind) => kind switch
    {
        V1.DiscrepancyKind.MissingAtPartner => DiscrepancyKind.MissingAtPartner,
        V1.DiscrepancyKind.MissingAtHub => DiscrepancyKind.MissingAtHub,
        V1.DiscrepancyKind.AmountMismatch => DiscrepancyKind.AmountMismatch,
        V1.DiscrepancyKind.Duplicate => DiscrepancyKind.Duplicate,
        V1.DiscrepancyKind.LedgerDrift => DiscrepancyKind.LedgerDrift,
        V1.DiscrepancyKind.FeeNotAccrued => DiscrepancyKind.FeeNotAccrued,
        V1.DiscrepancyKind.FeeOverdue => DiscrepancyKind.FeeOverdue,
        V1.DiscrepancyKind.SubsidyUnsettled => DiscrepancyKind.SubsidyUnsettled,
        _ => throw AdminMapping.Invalid("kind", "must be a DISCREPANCY_KIND_ value"),
    };

    private static V1.LedgerAccountKind ToProto(AccountKind kind) => kind switch
    {
        AccountKind.Bank => V1.LedgerAccountKind.Bank,
        AccountKind.FeesReceivable => V1.LedgerAccountKind.FeesReceivable,
        AccountKind.FeeRevenue => V1.LedgerAccountKind.FeeRevenue,
        AccountKind.SubsidyPayable => V1.LedgerAccountKind.SubsidyPayable,
        AccountKind.SubsidyExpense => V1.LedgerAccountKind.SubsidyExpense,
        AccountKind.DiscountsGranted => V1.LedgerAccountKind.DiscountsGranted,
        AccountKind.TenantSavings => V1.LedgerAccountKind.TenantSavings,
        _ => V1.LedgerAccountKind.Unspecified,
    };

    /// <summary>
    /// Where a page of ledger entries ends, in their order (recorded_at, transaction, line): "{unix ms}:{transaction id}:{line}"
    /// in the page token. recorded_at is stored to the millisecond, so the instant read back compares equal to it.
    /// </summary>
    private readonly record struct LedgerPosition(DateTimeOffset RecordedAt, Guid TransactionId, int Line)
    {
        public static LedgerPosition Parse(string key)
        {
            var parts = key.Split(':');
            return parts.Length == 3
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
                && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                && Guid.TryParseExact(parts[1], "N", out var transactionId)
                && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var line)
                ? new LedgerPosition(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds), transactionId, line)
                : throw AdminPaging.UnreadableToken();
        }

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{RecordedAt.ToUnixTimeMilliseconds()}:{TransactionId:N}:{Line}");
    }

    /// <summary>Forwards the engine's progress to the rpc's queue; never blocks the engine.</summary>
    private sealed class ChannelProgress(ChannelWriter<ReconciliationProgress> writer) : IProgress<ReconciliationProgress>
    {
        public void Report(ReconciliationProgress value) => writer.TryWrite(value);
    }
}
