using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Reconciliation;
using HlmHub.Observability;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HlmHub.Reconciliation;

/// <summary>
/// Reconciles a club's month (docs/reconciliation.md): the redemptions the hub accepted, the partners' latest
/// statements and the ledger. Every total is aggregated in SQL (GROUP BY, SUM); the only long lists (events missing on
/// one side, duplicates, redemptions without their posting) are streamed and counted, and at most
/// <see cref="ReconciliationOptions.MaxDiscrepanciesRecorded"/> discrepancies are kept. The month is read in one
/// snapshot (a read transaction), so the same inputs give the same report.
/// </summary>
public sealed partial class ReconciliationEngine(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<ReconciliationOptions> options,
    TimeProvider timeProvider,
    ILogger<ReconciliationEngine> logger,
    HubMetrics? metrics = null)
{
    /// <summary>The phases of a run, in order (the progress names them).</summary>
    public static readonly IReadOnlyList<string> Phases = ["redemptions", "statements", "duplicates", "ledger", "fees", "subsidies"];

    private const string RedemptionKeyPrefix = "redemption:";
    private const string FeeAccrualKeyPrefix = "fee-accrual:";
    private const string FeePaymentKeyPrefix = "fee-payment:";

    private readonly ReconciliationOptions _options = options.Value;

    /// <summary>
    /// Runs a reconciliation; records it unless <see cref="ReconciliationRequest.DryRun"/>. Only a run asked to be
    /// recorded is counted on the hub's meter (docs/operations.md): a dry run is a look (an admin's, the closing
    /// check's), and counting its findings would count a month's known discrepancies again at every look.
    /// </summary>
    public async Task<ReconciliationReport> RunAsync(ReconciliationRequest request, IProgress<ReconciliationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await MeasuredRunAsync(request, progress, unlessUpToDate: false, cancellationToken)
            ?? throw new UnreachableException("Only a run told to skip an up-to-date month records nothing.");
    }

    /// <summary>
    /// Runs and records a reconciliation unless the month's latest recorded run is up to date (has the inputs
    /// fingerprint this run read): then it records and counts nothing, and answers null. The month is read in its
    /// snapshot as by <see cref="RunAsync"/>; the latest run is read again in the short transaction that records, under
    /// a lock on the club's row, so two callers at once (overlapping firings of the monthly job, on one node or two)
    /// record the month once: the second waits for the first's commit and then finds its run.
    /// </summary>
    public async Task<ReconciliationReport?> RecordUnlessUpToDateAsync(ReconciliationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.DryRun)
        {
            throw new ArgumentException("A dry run records nothing, so there is nothing to skip: call RunAsync.", nameof(request));
        }

        return await MeasuredRunAsync(request, progress: null, unlessUpToDate: true, cancellationToken);
    }

    private async Task<ReconciliationReport?> MeasuredRunAsync(
        ReconciliationRequest request, IProgress<ReconciliationProgress>? progress, bool unlessUpToDate, CancellationToken cancellationToken)
    {
        // The meter times the whole call, recording included, so a success and a failure are timed over the same span
        // (the run's own Duration is its reading only: the recording cannot time itself).
        var startTimestamp = timeProvider.GetTimestamp();
        try
        {
            var report = await RunCoreAsync(request, progress, unlessUpToDate, cancellationToken);
            // Null: the month was up to date, and nothing was recorded.
            if (report is { DryRun: false })
            {
                metrics?.RecordReconciliationRun(succeeded: true, timeProvider.GetElapsedTime(startTimestamp));
                foreach (var (kind, count) in report.DiscrepancyCounts)
                {
                    metrics?.RecordDiscrepancies(kind, count);
                }
            }

            return report;
        }
        catch (Exception exception) when (exception is not DomainException && !request.DryRun)
        {
            metrics?.RecordReconciliationRun(succeeded: false, timeProvider.GetElapsedTime(startTimestamp));
            throw;
        }
    }

    private async Task<ReconciliationReport?> RunCoreAsync(
        ReconciliationRequest request, IProgress<ReconciliationProgress>? progress, bool unlessUpToDate, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.ClubId))
        {
            throw new DomainException(DomainErrorKind.InvalidArgument, "club_id", "is required");
        }

        if (string.IsNullOrWhiteSpace(request.StartedBy))
        {
            throw new DomainException(DomainErrorKind.InvalidArgument, "started_by", "is required");
        }

        var startedAt = timeProvider.GetUtcNow();
        // Compared as months (Period.EndUtc of 2999-12 would be the year 3000, which a Period cannot hold).
        if (!request.DryRun && request.Period >= Period.Of(startedAt))
        {
            // A recorded run stands for the month (the scheduler skips a month whose run is still up to date, closing
            // compares against it): a month still running, or not begun, can only be looked at.
            throw new DomainException(
                DomainErrorKind.FailedPrecondition,
                "period",
                $"{request.Period} has not ended yet (in Paris): run a dry run to check it while it runs; a run is recorded only once the month is over");
        }

        var startTimestamp = timeProvider.GetTimestamp();
        var state = new RunState(request, _options, progress);
        await using (var db = await dbContextFactory.CreateDbContextAsync(cancellationToken))
        {
            db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
            // One snapshot for the whole month, which writers do not wait for (read committed on SQL Server).
            await using var snapshot = await ReadSnapshots.BeginAsync(db, cancellationToken);
            if (!await db.Clubs.AnyAsync(club => club.Id == request.ClubId, cancellationToken))
            {
                throw new DomainException(DomainErrorKind.NotFound, "club_id", $"club '{request.ClubId}' does not exist");
            }

            state.PeriodClosed = await db.PeriodClosures.AnyAsync(
                closure => closure.ClubId == request.ClubId && closure.Period == request.Period, cancellationToken);
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"club={request.ClubId};period={request.Period};closed={state.PeriodClosed};");

            var hub = await ReadHubTotalsAsync(db, state, cancellationToken);
            await ReconcileStatementsAsync(db, state, hub, cancellationToken);
            await FindDuplicatesAsync(db, state, hub, cancellationToken);
            await ReconcileLedgerAsync(db, state, hub, cancellationToken);
            await ReconcileFeesAsync(db, state, cancellationToken);
            await FindUnsettledSubsidiesAsync(db, state, cancellationToken);
        }

        var duration = timeProvider.GetElapsedTime(startTimestamp);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state.Fingerprint.ToString())));
        var ordered = state.Kept();
        Guid? runId = null;
        if (!request.DryRun)
        {
            runId = Guid.CreateVersion7(startedAt);
            if (!await RecordAsync(runId.Value, request, startedAt, duration, state, fingerprint, ordered, unlessUpToDate, cancellationToken))
            {
                LogUpToDate(logger, request.ClubId, request.Period.ToString(), (long)duration.TotalMilliseconds);
                return null;
            }
        }

        LogFinished(logger, request.ClubId, request.Period.ToString(), request.DryRun, state.Total, (long)duration.TotalMilliseconds);
        return new ReconciliationReport(
            runId,
            request.ClubId,
            request.Period,
            request.DryRun,
            request.StartedBy,
            startedAt,
            duration,
            state.PeriodClosed,
            fingerprint,
            state.Redemptions,
            state.Cancellations,
            state.DiscountTotal,
            state.PurchaseTotal,
            state.Statements,
            state.LedgerTransactions,
            state.Counts.Where(pair => pair.Value > 0).ToDictionary(),
            state.Total,
            ordered.Take(_options.MaxDiscrepanciesInReport).ToList(),
            state.Total > Math.Min(ordered.Count, _options.MaxDiscrepanciesInReport));
    }

    // ---- Phase 1: what the hub accepted, per partner, offer and kind (one GROUP BY over the month).

    private async Task<List<HubGroup>> ReadHubTotalsAsync(HlmHubDbContext db, RunState state, CancellationToken cancellationToken)
    {
        state.Report(1, 0, 0);
        var groups = await Accepted(db, state.Request)
            .GroupBy(redemption => new { redemption.PartnerId, redemption.OfferId, redemption.Kind })
            .Select(group => new HubGroup(
                group.Key.PartnerId,
                group.Key.OfferId ?? "",
                group.Key.Kind,
                group.LongCount(),
                group.Sum(redemption => StorageFunctions.Cents(redemption.PurchaseAmount)),
                group.Sum(redemption => StorageFunctions.Cents(redemption.ComputedDiscount)),
                group.LongCount(redemption => StorageFunctions.Cents(redemption.ComputedDiscount) > 0),
                group.Min(redemption => redemption.OccurredAt)))
            .ToListAsync(cancellationToken);
        groups = [.. groups.OrderBy(group => group.PartnerId, StringComparer.Ordinal).ThenBy(group => group.OfferId, StringComparer.Ordinal).ThenBy(group => group.Kind)];
        foreach (var group in groups)
        {
            var sign = group.Kind == RedemptionKind.Redemption ? 1 : -1;
            if (group.Kind == RedemptionKind.Redemption)
            {
                state.Redemptions += group.Count;
            }
            else
            {
                state.Cancellations += group.Count;
            }

            state.DiscountTotal += new Money(sign * group.Discount);
            state.PurchaseTotal += new Money(sign * group.Purchase);
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"hub={group.PartnerId}/{group.OfferId}/{group.Kind}/{group.Count}/{group.Purchase}/{group.Discount}/{group.Booked};");
        }

        var rows = state.Redemptions + state.Cancellations;
        state.Report(1, rows, rows);
        return groups;
    }

    private static IQueryable<Redemption> Accepted(HlmHubDbContext db, ReconciliationRequest request) =>
        db.Redemptions.Where(redemption => redemption.ClubId == request.ClubId && redemption.Period == request.Period
            && redemption.Outcome == RedemptionOutcome.Accepted);

    // ---- Phase 2: the partners' latest statements, per offer, then event by event where the partner listed events.

    private async Task ReconcileStatementsAsync(HlmHubDbContext db, RunState state, List<HubGroup> hub, CancellationToken cancellationToken)
    {
        var request = state.Request;
        var latest = await db.Statements
            .Where(statement => statement.ClubId == request.ClubId && statement.Period == request.Period)
            .Where(statement => !db.Statements.Any(newer => newer.ClubId == statement.ClubId && newer.Period == statement.Period
                && newer.PartnerId == statement.PartnerId && newer.Revision > statement.Revision))
            .Select(statement => new LatestStatement(statement.Id, statement.PartnerId, statement.Revision, statement.Events.Count()))
            .ToListAsync(cancellationToken);
        latest = [.. latest.OrderBy(statement => statement.PartnerId, StringComparer.Ordinal)];
        state.Statements = latest.Count;
        state.Report(2, 0, latest.Count);
        var statementIds = latest.Select(statement => statement.Id).ToList();
        var lines = await db.Set<StatementLine>()
            .Where(line => statementIds.Contains(line.StatementId))
            .Select(line => new
            {
                line.StatementId,
                line.OfferId,
                line.RedemptionCount,
                Purchase = StorageFunctions.Cents(line.PurchaseTotal),
                Discount = StorageFunctions.Cents(line.DiscountTotal),
            })
            .ToListAsync(cancellationToken);
        foreach (var statement in latest)
        {
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"statement={statement.PartnerId}/{statement.Id:N}/{statement.Revision}/{statement.EventCount};");
        }

        // Net per offer: the month's redemptions less the month's cancellations (which may cancel earlier months'
        // redemptions), so negative when they outweigh them; statements carry the same net figures (statement.proto).
        var hubNet = hub
            .GroupBy(group => (group.PartnerId, group.OfferId))
            .ToDictionary(
                offer => offer.Key,
                offer => offer.Aggregate(
                    new Totals(0, 0, 0),
                    (sum, group) => group.Kind == RedemptionKind.Redemption
                        ? new Totals(sum.Count + group.Count, sum.Purchase + group.Purchase, sum.Discount + group.Discount)
                        : new Totals(sum.Count - group.Count, sum.Purchase - group.Purchase, sum.Discount - group.Discount)));
        var statementByPartner = latest.ToDictionary(statement => statement.PartnerId, StringComparer.Ordinal);
        var partners = hubNet.Keys.Select(key => key.PartnerId).Concat(latest.Select(statement => statement.PartnerId))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var done = 0;
        foreach (var partnerId in partners)
        {
            statementByPartner.TryGetValue(partnerId, out var statement);
            var partnerLines = statement is null
                ? []
                : lines.Where(line => line.StatementId == statement.Id)
                    .ToDictionary(line => line.OfferId, line => new Totals(line.RedemptionCount, line.Purchase, line.Discount), StringComparer.Ordinal);
            var offers = hubNet.Keys.Where(key => key.PartnerId == partnerId).Select(key => key.OfferId)
                .Concat(partnerLines.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var offerId in offers)
            {
                var expected = hubNet.GetValueOrDefault((partnerId, offerId), new Totals(0, 0, 0));
                if (!partnerLines.TryGetValue(offerId, out var actual))
                {
                    if (expected != new Totals(0, 0, 0))
                    {
                        state.Add(new FoundDiscrepancy(
                            DiscrepancyKind.MissingAtPartner, partnerId, offerId, null, null, null, expected.Discount, 0, expected.Count, 0,
                            statement is null
                                ? $"no statement from {partnerId} for {request.Period}; the hub counts {expected.Count} redemption(s) of {offerId}, {Euros(expected.Discount)} of discounts, net of the month's cancellations"
                                : $"statement revision {statement.Revision} has no line for {offerId}; the hub counts {expected.Count} redemption(s), {Euros(expected.Discount)} of discounts, net of the month's cancellations"));
                    }

                    continue;
                }

                if (actual != expected)
                {
                    state.Add(new FoundDiscrepancy(
                        DiscrepancyKind.AmountMismatch, partnerId, offerId, null, null, null, expected.Discount, actual.Discount, expected.Count, actual.Count,
                        $"{offerId}: the hub counts {expected.Count} redemption(s), {Euros(expected.Purchase)} of purchases, {Euros(expected.Discount)} of discounts, net of the month's cancellations; "
                        + $"the statement {actual.Count}, {Euros(actual.Purchase)}, {Euros(actual.Discount)}"));
                }
            }

            if (statement is { EventCount: > 0 })
            {
                await ReconcileEventsAsync(db, state, statement, cancellationToken);
            }

            state.Report(2, ++done, latest.Count);
        }
    }

    private async Task ReconcileEventsAsync(HlmHubDbContext db, RunState state, LatestStatement statement, CancellationToken cancellationToken)
    {
        var statementId = statement.Id;
        var partnerId = statement.PartnerId;
        var events = db.Set<StatementEvent>();
        var missingAtPartner = Accepted(db, state.Request)
            .Where(redemption => redemption.PartnerId == partnerId
                && !events.Any(item => item.StatementId == statementId && item.PartnerEventId == redemption.PartnerEventId))
            .OrderBy(redemption => redemption.PartnerEventId)
            .Select(redemption => new { redemption.PartnerEventId, redemption.OfferId, redemption.Kind, Discount = StorageFunctions.Cents(redemption.ComputedDiscount) })
            .AsAsyncEnumerable();
        await foreach (var item in missingAtPartner.WithCancellation(cancellationToken))
        {
            state.Add(new FoundDiscrepancy(
                DiscrepancyKind.MissingAtPartner, partnerId, item.OfferId, null, item.PartnerEventId, null, item.Discount, 0, 1, 0,
                $"the hub accepted {(item.Kind == RedemptionKind.Cancellation ? "cancellation" : "redemption")} {item.PartnerEventId} of {item.OfferId} ({Euros(item.Discount)}); statement revision {statement.Revision} does not list it"));
        }

        var accepted = Accepted(db, state.Request);
        var missingAtHub = events
            .Where(item => item.StatementId == statementId
                && !accepted.Any(redemption => redemption.PartnerId == partnerId && redemption.PartnerEventId == item.PartnerEventId))
            .OrderBy(item => item.PartnerEventId)
            .Select(item => item.PartnerEventId)
            .AsAsyncEnumerable();
        await foreach (var eventId in missingAtHub.WithCancellation(cancellationToken))
        {
            state.Add(new FoundDiscrepancy(
                DiscrepancyKind.MissingAtHub, partnerId, null, null, eventId, null, 0, 0, 0, 1,
                $"statement revision {statement.Revision} lists {eventId}; the hub accepted no such event of {partnerId} in {state.Request.Period}"));
        }
    }

    // ---- Phase 3: the same purchase accepted under several event ids (GROUP BY ... HAVING COUNT(*) > 1).

    private static async Task FindDuplicatesAsync(HlmHubDbContext db, RunState state, List<HubGroup> hub, CancellationToken cancellationToken)
    {
        state.Report(3, 0, state.Redemptions);
        var request = state.Request;
        var standing = NotCancelledByMonthEnd(db, request);
        // The month's redemptions cancelled by a cancellation booked in or before the month: what the duplicate search
        // leaves out besides the cancellations counted in phase 1. Into the fingerprint, so it covers every input here.
        var cancelled = state.Redemptions - await standing.LongCountAsync(cancellationToken);
        state.Fingerprint.Append(CultureInfo.InvariantCulture, $"cancelled={cancelled};");
        // A redemption that arrived after its own month was closed is booked here, while the purchase it may repeat was
        // booked in that earlier month: searched within this month alone, the two copies would never meet, and no run
        // would report the discount given twice. So when the month holds such late redemptions, the standing
        // redemptions booked in the months between that happened as late as the earliest of them join the search, and
        // a group counts only if it holds one of this month's (a group of earlier months alone is theirs to report).
        // A month without a late redemption runs the search as before.
        var periodKey = request.Period.Key;
        var monthStart = request.Period.StartUtc;
        var earliestLate = hub.Where(group => group.Kind == RedemptionKind.Redemption && group.EarliestOccurred < monthStart)
            .Select(group => (DateTimeOffset?)group.EarliestOccurred).Min();
        var candidates = standing;
        for (var month = earliestLate is { } earliest ? Period.Of(earliest) : request.Period; month < request.Period; month = month.Next())
        {
            // One month at a time, each read through the (club, month) index.
            var (clubId, booked, from) = (request.ClubId, month, earliestLate!.Value);
            candidates = candidates.Concat(NotCancelledBy(db, request, db.Redemptions.Where(redemption => redemption.ClubId == clubId
                && redemption.Period == booked && redemption.Outcome == RedemptionOutcome.Accepted && redemption.Kind == RedemptionKind.Redemption
                && redemption.OccurredAt >= from)));
        }

        var groups = candidates
            .GroupBy(redemption => new { redemption.PartnerId, redemption.OfferId, redemption.MemberToken, redemption.OccurredAt, redemption.PurchaseAmount });
        // Without late redemptions, the search the month always ran (no count of earlier copies to make).
        var found = earliestLate is null
            ? groups.Where(group => group.Count() > 1).Select(group => new DuplicateGroup
            {
                PartnerId = group.Key.PartnerId,
                OfferId = group.Key.OfferId,
                MemberToken = group.Key.MemberToken,
                OccurredAt = group.Key.OccurredAt,
                Purchase = StorageFunctions.Cents(group.Key.PurchaseAmount),
                Count = group.LongCount(),
                Discount = group.Sum(redemption => StorageFunctions.Cents(redemption.ComputedDiscount)),
                FirstEvent = group.Min(redemption => redemption.PartnerEventId)!,
                LastEvent = group.Max(redemption => redemption.PartnerEventId)!,
            })
            : groups.Where(group => group.Count() > 1 && group.Max(redemption => StorageFunctions.PeriodKey(redemption.Period)) == periodKey).Select(group => new DuplicateGroup
            {
                PartnerId = group.Key.PartnerId,
                OfferId = group.Key.OfferId,
                MemberToken = group.Key.MemberToken,
                OccurredAt = group.Key.OccurredAt,
                Purchase = StorageFunctions.Cents(group.Key.PurchaseAmount),
                Count = group.LongCount(),
                Discount = group.Sum(redemption => StorageFunctions.Cents(redemption.ComputedDiscount)),
                FirstEvent = group.Min(redemption => redemption.PartnerEventId)!,
                LastEvent = group.Max(redemption => redemption.PartnerEventId)!,
                Earlier = group.LongCount(redemption => StorageFunctions.PeriodKey(redemption.Period) < periodKey),
            });
        var duplicates = found.OrderBy(group => group.PartnerId).ThenBy(group => group.FirstEvent).AsAsyncEnumerable();
        var earlierCopies = 0L;
        await foreach (var group in duplicates.WithCancellation(cancellationToken))
        {
            earlierCopies += group.Earlier;
            var single = group.Discount / group.Count;
            state.Add(new FoundDiscrepancy(
                DiscrepancyKind.Duplicate, group.PartnerId, group.OfferId, null, group.FirstEvent, null, single, group.Discount, 1, group.Count,
                $"{group.Count} events ({group.FirstEvent} ... {group.LastEvent}) for the same purchase of {Euros(group.Purchase)} by member {group.MemberToken} at {group.OccurredAt:yyyy-MM-ddTHH:mm:ssZ}"));
        }

        if (earliestLate is not null)
        {
            // Those earlier months were closed when the late redemptions were booked here, but what of them this
            // month's report reads is in its fingerprint all the same.
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"earlier-copies={earlierCopies};");
        }

        state.Report(3, state.Redemptions, state.Redemptions);
    }

    /// <summary>
    /// The month's accepted redemptions that no accepted cancellation booked in or before the month cancels. A
    /// cancellation booked in a later month belongs to that month (as every event is reconciled in the month it is
    /// booked in), so it does not change this month's report, closed or not.
    /// </summary>
    private static IQueryable<Redemption> NotCancelledByMonthEnd(HlmHubDbContext db, ReconciliationRequest request) =>
        NotCancelledBy(db, request, Accepted(db, request).Where(redemption => redemption.Kind == RedemptionKind.Redemption));

    /// <summary><paramref name="redemptions"/> less those an accepted cancellation booked in or before the month cancels.</summary>
    private static IQueryable<Redemption> NotCancelledBy(HlmHubDbContext db, ReconciliationRequest request, IQueryable<Redemption> redemptions)
    {
        var all = db.Redemptions;
        var periodKey = request.Period.Key;
        return redemptions.Where(redemption => !all.Any(cancellation => cancellation.CancelsRedemptionId == redemption.Id
            && cancellation.Outcome == RedemptionOutcome.Accepted
            && StorageFunctions.PeriodKey(cancellation.Period) <= periodKey));
    }

    private static string Euros(long cents) => new Money(cents).ToString();

    [LoggerMessage(EventId = 4602, Level = LogLevel.Information, Message = "Reconciliation of {ClubId} {Period} recorded nothing: its latest recorded run has the same inputs (read in {DurationMs} ms)")]
    private static partial void LogUpToDate(ILogger logger, string clubId, string period, long durationMs);

    [LoggerMessage(EventId = 4601, Level = LogLevel.Information, Message = "Reconciliation of {ClubId} {Period} (dry run: {DryRun}) found {Discrepancies} discrepancies in {DurationMs} ms")]
    private static partial void LogFinished(ILogger logger, string clubId, string period, bool dryRun, long discrepancies, long durationMs);

    /// <summary>The month's accepted events of one partner, offer and kind; <paramref name="EarliestOccurred"/> is before the month when some arrived after their own month was closed.</summary>
    private sealed record HubGroup(string PartnerId, string OfferId, RedemptionKind Kind, long Count, long Purchase, long Discount, long Booked, DateTimeOffset EarliestOccurred);

    /// <summary>One purchase accepted under several event ids; <see cref="Earlier"/> of them booked in earlier months.</summary>
    private sealed class DuplicateGroup
    {
        public required string PartnerId { get; init; }

        public string? OfferId { get; init; }

        public required string MemberToken { get; init; }

        public DateTimeOffset OccurredAt { get; init; }

        public long Purchase { get; init; }

        public long Count { get; init; }

        public long Discount { get; init; }

        public required string FirstEvent { get; init; }

        public required string LastEvent { get; init; }

        public long Earlier { get; init; }
    }

    private sealed record LatestStatement(Guid Id, string PartnerId, int Revision, int EventCount);

    private readonly record struct Totals(long Count, long Purchase, long Discount);

    /// <summary>What a run gathers: counts, the discrepancies kept, the fingerprint of what it read.</summary>
    private sealed class RunState(ReconciliationRequest request, ReconciliationOptions options, IProgress<ReconciliationProgress>? progress)
    {
        public ReconciliationRequest Request { get; } = request;

        public bool PeriodClosed { get; set; }

        public long Redemptions { get; set; }

        public long Cancellations { get; set; }

        public Money DiscountTotal { get; set; }

        public Money PurchaseTotal { get; set; }

        public long Statements { get; set; }

        public long LedgerTransactions { get; set; }

        public StringBuilder Fingerprint { get; } = new();

        // The discrepancies kept so far, the last in the stable order on top: past the bound, a new one that comes
        // before it takes its place, so a truncated run keeps the first of the stable order (as its report says),
        // not the first found (a month's fee findings come last of all the phases).
        private readonly PriorityQueue<FoundDiscrepancy, FoundDiscrepancy> _kept = new(
            Comparer<FoundDiscrepancy>.Create((x, y) => FoundDiscrepancyOrder.Instance.Compare(y, x)));

        public Dictionary<DiscrepancyKind, long> Counts { get; } = [];

        public long Total { get; private set; }

        public void Add(FoundDiscrepancy discrepancy)
        {
            Total++;
            Counts[discrepancy.Kind] = Counts.GetValueOrDefault(discrepancy.Kind) + 1;
            if (_kept.Count < options.MaxDiscrepanciesRecorded)
            {
                _kept.Enqueue(discrepancy, discrepancy);
            }
            else if (FoundDiscrepancyOrder.Instance.Compare(discrepancy, _kept.Peek()) < 0)
            {
                _kept.DequeueEnqueue(discrepancy, discrepancy);
            }
        }

        /// <summary>The discrepancies kept, in the stable order.</summary>
        public List<FoundDiscrepancy> Kept() =>
            [.. _kept.UnorderedItems.Select(item => item.Element).Order(FoundDiscrepancyOrder.Instance)];

        public void Report(int phaseNumber, long done, long total) =>
            progress?.Report(new ReconciliationProgress(Phases[phaseNumber - 1], phaseNumber, Phases.Count, done, total));
    }

    /// <summary>The stable order of a run's discrepancies: kind, partner, offer, contract, account, event, detail (ordinal).</summary>
    private sealed class FoundDiscrepancyOrder : IComparer<FoundDiscrepancy>
    {
        public static readonly FoundDiscrepancyOrder Instance = new();

        public int Compare(FoundDiscrepancy? x, FoundDiscrepancy? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (x is null || y is null)
            {
                return x is null ? -1 : 1;
            }

            var result = x.Kind.CompareTo(y.Kind);
            result = result != 0 ? result : string.CompareOrdinal(x.PartnerId, y.PartnerId);
            result = result != 0 ? result : string.CompareOrdinal(x.OfferId, y.OfferId);
            result = result != 0 ? result : string.CompareOrdinal(x.ContractId, y.ContractId);
            result = result != 0 ? result : string.CompareOrdinal(x.AccountId, y.AccountId);
            result = result != 0 ? result : string.CompareOrdinal(x.PartnerEventId, y.PartnerEventId);
            return result != 0 ? result : string.CompareOrdinal(x.Detail, y.Detail);
        }
    }
}
