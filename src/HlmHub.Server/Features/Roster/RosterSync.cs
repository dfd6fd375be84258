using System.Globalization;
using HlmHub.Domain;
using HlmHub.Domain.Roster;
using HlmHub.Observability;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Roster;

/// <summary>
/// Applies landlords' roster sessions to the database, whatever carries them (the gRPC stream today). A session is
/// opened (or resumed), fed batches of changes, then completed. Batches are applied in database transactions
/// together with the session's progress (<see cref="RosterWriter"/>: several batches per transaction), so what a
/// landlord is told is applied is durable, and a landlord whose stream broke resumes after
/// <see cref="RosterSession.LastSequence"/>. Nothing here holds more than one batch in
/// memory: a full snapshot of a million households is a million rows, never a million objects.
/// </summary>
internal sealed class RosterSync(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    MemberTokenGenerator memberTokens,
    IOptions<RosterOptions> options,
    HubMetrics metrics,
    TimeProvider timeProvider)
{
    private RosterOptions Limits => options.Value;

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    /// <summary>
    /// Opens <paramref name="landlordId"/>'s session <paramref name="sessionId"/> (the landlord's own id): a new id starts
    /// a session, the id of its open session resumes it. A completed or abandoned session is refused: it cannot be
    /// applied again. A new session is refused while <see cref="RosterOptions.MaxOpenSessionsPerLandlord"/> are open
    /// (idle ones do not count), naming them.
    /// </summary>
    public async Task<RosterSession> OpenAsync(string landlordId, Guid sessionId, RosterSessionKind kind, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Count and insert under the landlord's lock: two starts at once would otherwise both count the same open
        // sessions and both open, and a full snapshot beside a delta marks as left what the delta wrote.
        await LockLandlordAsync(db, landlordId, cancellationToken);
        var now = Now;
        var existing = await db.RosterSessions.SingleOrDefaultAsync(session => session.Id == sessionId, cancellationToken);
        if (existing is not null)
        {
            if (existing.LandlordId != landlordId)
            {
                // Another landlord's session is not this caller's business, not even its existence.
                throw UnknownSession(sessionId);
            }

            EnsureOpen(existing, now);
            if (existing.Kind != kind)
            {
                throw new DomainException(DomainErrorKind.InvalidArgument, "kind", $"session {sessionId} is a {existing.Kind} session, not {kind}");
            }

            // Resuming is activity: the idle time starts again, so a resumed session is not refused at its first batch.
            existing.Resume(now);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return existing;
        }

        var idleSince = now - Limits.SessionIdleTimeout;
        var open = await db.RosterSessions.AsNoTracking()
            .Where(session => session.LandlordId == landlordId && session.Status == RosterSessionStatus.Open && session.UpdatedAt >= idleSince)
            .OrderBy(session => session.StartedAt)
            .Select(session => new { session.Id, session.Kind, session.LastSequence })
            .ToListAsync(cancellationToken);
        if (open.Count >= Limits.MaxOpenSessionsPerLandlord)
        {
            // A landlord told only "complete the open session" may complete a full snapshot that was cut short, and
            // so mark every household it did not reach as left: say which sessions are open, and the safe ways out.
            var sessions = string.Join(", ", open.Select(session => string.Create(CultureInfo.InvariantCulture,
                $"{session.Id} ({(session.Kind == RosterSessionKind.FullSnapshot ? "full snapshot" : "delta")}, last_sequence {session.LastSequence})")));
            throw new DomainException(DomainErrorKind.LimitExceeded, "session_id",
                $"Roster:MaxOpenSessionsPerLandlord is {Limits.MaxOpenSessionsPerLandlord} and open: {(sessions.Length == 0 ? "none" : sessions)}. "
                + "Resume it with its session_id; complete it only if it is a delta (completing a full snapshot marks every household it did not list as left); "
                + $"or abandon it with AbandonSyncSession. An idle session stops counting after Roster:SessionIdleTimeout ({Limits.SessionIdleTimeout})");
        }

        var started = RosterSession.Start(sessionId, landlordId, kind, now);
        db.RosterSessions.Add(started);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return started;
    }

    /// <summary>
    /// Abandons the landlord's session: nothing more of it is applied (a stream of it still running is refused at its
    /// next batch or `complete`), what it committed stays, and its slot is free. Abandoning it again changes nothing.
    /// </summary>
    public async Task<RosterSession> AbandonAsync(string landlordId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Under the landlord's lock, as every write of a session: a stream's transaction in progress commits first,
        // and its next one reads the session abandoned.
        await LockLandlordAsync(db, landlordId, cancellationToken);
        var session = await db.RosterSessions.SingleOrDefaultAsync(item => item.Id == sessionId, cancellationToken);
        if (session is null || session.LandlordId != landlordId)
        {
            throw UnknownSession(sessionId);
        }

        if (session.Status == RosterSessionStatus.Completed)
        {
            throw new DomainException(DomainErrorKind.FailedPrecondition, "session_id", $"session {sessionId} is completed: a completed session cannot be abandoned");
        }

        session.Abandon(Now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return session;
    }

    /// <summary>
    /// Takes <paramref name="landlordId"/>'s lock for the rest of <paramref name="db"/>'s transaction: every
    /// transaction that writes a roster session (open, batches, complete, abandon) takes it first, so a landlord's
    /// sessions are checked and changed one transaction at a time. It is an update of the landlord's own row that
    /// changes nothing: PostgreSQL and SQL Server hold that row's write lock until commit, and a second transaction
    /// waits for it, then (read committed: each statement sees what was committed before it) counts and reads what
    /// the first committed; SQLite has one writer at a time, and this write makes the transaction that writer from its
    /// first statement. Provider-neutral, no schema change, and, unlike a filtered unique index, it holds for any
    /// Roster:MaxOpenSessionsPerLandlord and for the idle timeout (an expired session stops counting exactly when it
    /// stops being writable). It serialises a landlord's roster writes, never two landlords'.
    /// </summary>
    internal static async Task LockLandlordAsync(HlmHubDbContext db, string landlordId, CancellationToken cancellationToken)
    {
        var locked = await db.Landlords
            .Where(landlord => landlord.Id == landlordId)
            .ExecuteUpdateAsync(set => set.SetProperty(landlord => landlord.Name, landlord => landlord.Name), cancellationToken);
        if (locked != 1)
        {
            throw new DomainException(DomainErrorKind.NotFound, "landlord", $"no landlord '{landlordId}'");
        }
    }

    /// <summary>The landlord's session, or NOT_FOUND (another landlord's session is not this caller's business).</summary>
    public async Task<RosterSession> GetAsync(string landlordId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var session = await db.RosterSessions.AsNoTracking().SingleOrDefaultAsync(item => item.Id == sessionId, cancellationToken);
        return session is not null && session.LandlordId == landlordId
            ? session
            : throw UnknownSession(sessionId);
    }

    /// <summary>
    /// Starts writing batches of <paramref name="landlordId"/>'s session <paramref name="sessionId"/>: consecutive
    /// batches share a database transaction, up to <see cref="RosterOptions.MaxItemsPerCommit"/> items
    /// (<see cref="RosterWriter"/>).
    /// </summary>
    public RosterWriter BeginWriting(Guid sessionId, string landlordId) =>
        new(this, dbContextFactory, metrics, Limits.MaxItemsPerCommit, sessionId, landlordId);

    /// <summary>
    /// Checks one batch against the session, read in <paramref name="db"/>'s open transaction: its size, the
    /// session's item limit and its sequences. Writes nothing, so a refusal leaves the transaction as it was.
    /// </summary>
    internal async Task<(RosterSession Session, List<RosterChange> Fresh)> CheckBatchAsync(
        HlmHubDbContext db, Guid sessionId, string landlordId, IReadOnlyList<RosterChange> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count > Limits.MaxItemsPerBatch)
        {
            throw new DomainException(DomainErrorKind.LimitExceeded, "items",
                $"{batch.Count} items in one message; Roster:MaxItemsPerBatch is {Limits.MaxItemsPerBatch}");
        }

        // Checked before resumed items are skipped: an item without a sequence (protobuf's default, 0) would
        // otherwise be skipped as already applied, and a full snapshot of such items would mark every household left.
        for (var index = 0; index < batch.Count; index++)
        {
            if (batch[index].Sequence < 1)
            {
                throw new DomainException(DomainErrorKind.InvalidArgument, "sequence",
                    $"every item needs a sequence of 1 or more; item {index + 1} of this batch ('{RosterRules.ReferenceForEcho(batch[index].LandlordReference)}') has {batch[index].Sequence}");
            }
        }

        // Checked on the whole batch, before resumed items are skipped: a resend after a broken stream is a prefix of
        // the batch, so in a strictly increasing batch the items at or before LastSequence are exactly that prefix.
        // Checked only on what is left, an out-of-order item (6, 4, 7 after 4) would be dropped as already applied,
        // neither written nor reported, and a full snapshot would then mark its household as left.
        for (var index = 1; index < batch.Count; index++)
        {
            if (batch[index].Sequence <= batch[index - 1].Sequence)
            {
                throw new DomainException(DomainErrorKind.InvalidArgument, "sequence", $"sequences must strictly increase ({batch[index].Sequence} after {batch[index - 1].Sequence})");
            }
        }

        var session = await RequireOpenSessionAsync(db, sessionId, landlordId, cancellationToken);
        var fresh = batch.Where(change => change.Sequence > session.LastSequence).ToList();
        if (session.Items + fresh.Count > Limits.MaxItemsPerSession)
        {
            throw new DomainException(DomainErrorKind.LimitExceeded, "items",
                $"the session would exceed Roster:MaxItemsPerSession ({Limits.MaxItemsPerSession})");
        }

        return (session, fresh);
    }

    /// <summary>Applies the checked items of one batch in <paramref name="db"/>'s open transaction, without committing it.</summary>
    internal async Task<List<RosterItemResult>> WriteBatchAsync(
        HlmHubDbContext db, RosterSession session, string landlordId, List<RosterChange> fresh, CancellationToken cancellationToken)
    {
        var context = await BatchContext.LoadAsync(db, landlordId, fresh, Now, cancellationToken);
        var results = new List<RosterItemResult>(fresh.Count);
        var seenInBatch = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in fresh)
        {
            var result = Apply(db, context, session, change, seenInBatch);
            session.Record(result, Now);
            results.Add(result);
        }

        await KeepProblemsAsync(db, session, results, cancellationToken);
        // The session's progress, its new problems, and the memberships left or rejoined first; then the known households this batch changed, as multi-row updates
        // (BulkUpdate: the status change time only where the status changed, only the session mark where nothing
        // else changed, as in a full snapshot re-sent unchanged);
        // then the batch's new rows, as multi-row inserts (BulkInsert), households before the memberships that
        // refer to them.
        await db.SaveChangesAsync(cancellationToken);
        var (statusChanged, changed, seenOnly) = context.KnownHouseholdsToWrite();
        await db.UpdateAllAsync(statusChanged, StatusColumns, cancellationToken);
        await db.UpdateAllAsync(changed, RosterColumns, cancellationToken);
        await db.UpdateAllAsync(seenOnly, SessionMarkColumn, cancellationToken);
        await db.InsertAllAsync(context.NewHouseholds, cancellationToken);
        await db.InsertAllAsync(context.NewMemberships, cancellationToken);
        // The next batch reads what it needs again, in the same transaction: nothing piles up in the context.
        db.ChangeTracker.Clear();
        return results;
    }

    /// <summary>
    /// Adds the stale and rejected items of a batch to the session's problems, in the batch's transaction, up to
    /// <see cref="RosterOptions.MaxProblemsReported"/> kept per session: past it nothing more is kept (the session's
    /// counts stay exact, and its answer says the list is cut). Only a batch with problems reads anything, and only
    /// when the session had problems before it: a clean roster costs nothing here.
    /// </summary>
    private async Task KeepProblemsAsync(HlmHubDbContext db, RosterSession session, List<RosterItemResult> results, CancellationToken cancellationToken)
    {
        var problems = results.Where(RosterSessionProblem.IsProblem).ToList();
        if (problems.Count == 0)
        {
            return;
        }

        // Counted rather than derived from the session's counts: the bound may have been another when earlier
        // batches were kept (a restart with another configuration).
        var countedBefore = session.Stale + session.Rejected - problems.Count;
        var kept = countedBefore == 0
            ? 0
            : await db.RosterSessionProblems.CountAsync(problem => problem.SessionId == session.Id, cancellationToken);
        var room = Math.Max(0, Limits.MaxProblemsReported - kept);
        db.RosterSessionProblems.AddRange(problems.Take(room).Select(problem => RosterSessionProblem.Of(session.Id, problem)));
    }

    /// <summary>
    /// The problems kept for session <paramref name="sessionId"/> (already checked to be the caller's), in sequence
    /// order, at most <see cref="RosterOptions.MaxProblemsReported"/>: those of every stream of the session, a broken
    /// one's included.
    /// </summary>
    public async Task<IReadOnlyList<RosterSessionProblem>> ListProblemsAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        return await db.RosterSessionProblems.AsNoTracking()
            .Where(problem => problem.SessionId == sessionId)
            .OrderBy(problem => problem.Sequence)
            .Take(Limits.MaxProblemsReported)
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Completes the session. A full snapshot then marks as left every active household of the landlord it did not
    /// list (never deleted), in one set-based statement, in the same transaction.
    /// </summary>
    public async Task<RosterSession> CompleteAsync(Guid sessionId, string landlordId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockLandlordAsync(db, landlordId, cancellationToken);
        var session = await RequireOpenSessionAsync(db, sessionId, landlordId, cancellationToken);
        var now = Now;
        long left = 0;
        if (session.Kind == RosterSessionKind.FullSnapshot)
        {
            left = await db.Households
                .Where(household => household.LandlordId == landlordId
                    && household.Status == HouseholdStatus.Active
                    && (household.LastSessionId == null || household.LastSessionId != sessionId))
                .ExecuteUpdateAsync(
                    set => set
                        .SetProperty(household => household.Status, HouseholdStatus.Left)
                        .SetProperty(household => household.Version, household => household.Version + 1)
                        .SetProperty(household => household.UpdatedAt, now)
                        .SetProperty(household => household.StatusChangedAt, now),
                    cancellationToken);
        }

        session.Complete(left, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.RecordHouseholdsLeft(left);
        return session;
    }

    /// <summary>
    /// One page of the landlord's member tokens, in reference order, after <paramref name="afterReference"/> (keyset
    /// paging: a page costs the same at the millionth household as at the first).
    /// </summary>
    public async Task<IReadOnlyList<(string Reference, string MemberToken, bool Active)>> ListMemberTokensAsync(
        string landlordId, string? afterReference, CancellationToken cancellationToken)
    {
        // A control character (a NUL above all) cannot be sent to PostgreSQL: the call would end INTERNAL.
        if (afterReference is not null && !PrintableText.Is(afterReference))
        {
            throw new DomainException(DomainErrorKind.InvalidArgument, "after_reference", "must be printable text (no control characters), as every landlord_reference is");
        }

        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var households = db.Households.AsNoTracking().Where(household => household.LandlordId == landlordId);
        if (!string.IsNullOrEmpty(afterReference))
        {
            households = households.Where(household => string.Compare(household.LandlordReference, afterReference) > 0);
        }

        var page = await households
            .OrderBy(household => household.LandlordReference)
            .Take(Limits.MemberTokensPageSize)
            .Select(household => new { household.LandlordReference, household.MemberToken, household.Status })
            .ToListAsync(cancellationToken);
        return [.. page.Select(item => (item.LandlordReference, item.MemberToken, item.Status == HouseholdStatus.Active))];
    }

    /// <summary>
    /// The columns a roster change that keeps the household's status sets on a known household (its landlord, reference
    /// and token never change). None is indexed: on PostgreSQL such an update can stay on the row's page (HeapOnlyUpdates).
    /// </summary>
    private static readonly string[] RosterColumns =
    [
        nameof(Household.Rooms), nameof(Household.InQpv), nameof(Household.Status), nameof(Household.Version),
        nameof(Household.UpdatedAt), nameof(Household.SourceVersion), nameof(Household.LastSessionId),
    ];

    /// <summary>The columns a roster change that moves the household's status sets: those above and the indexed change time.</summary>
    private static readonly string[] StatusColumns = [.. RosterColumns, nameof(Household.StatusChangedAt)];

    /// <summary>The column that marks a household as listed by a session (what a full snapshot's end reads).</summary>
    private static readonly string[] SessionMarkColumn = [nameof(Household.LastSessionId)];

    private RosterItemResult Apply(HlmHubDbContext db, BatchContext context, RosterSession session, RosterChange change, HashSet<string> seenInBatch)
    {
        if (string.IsNullOrEmpty(change.LandlordReference))
        {
            return Rejected(change, RosterRejection.Malformed, "landlord_reference: required");
        }

        context.Households.TryGetValue(change.LandlordReference, out var household);
        if (!seenInBatch.Add(change.LandlordReference) || household?.LastSessionId == session.Id)
        {
            return Rejected(change, RosterRejection.DuplicateReference, "landlord_reference: listed twice in this session");
        }

        // Listed, even if refused below: a full snapshot must not mark it as left for a bad field.
        household?.SeenInSession(session.Id);
        if (RosterRules.CheckShape(change) is { } malformed)
        {
            return Rejected(change, malformed.Rejection, malformed.Message);
        }

        if (household is not null && household.IsStale(change.SourceVersion))
        {
            return new RosterItemResult(change.Sequence, change.LandlordReference, RosterItemOutcome.Stale,
                Message: $"version {change.SourceVersion} is older than the stored version {household.SourceVersion}: ignored");
        }

        if (change.Kind == RosterChangeKind.Remove)
        {
            if (household is null)
            {
                return Rejected(change, RosterRejection.UnknownHousehold, "landlord_reference: no such household to remove");
            }

            var removed = household.ApplyRoster(household.Rooms, household.InQpv, HouseholdStatus.Left, change.SourceVersion, Now);
            return new RosterItemResult(change.Sequence, change.LandlordReference, removed ? RosterItemOutcome.Removed : RosterItemOutcome.Unchanged);
        }

        // Consent travels with the roster: every club opted into must be one the landlord hosts or is federated into.
        foreach (var clubId in change.ClubIds.Distinct(StringComparer.Ordinal))
        {
            if (!context.Clubs.TryGetValue(clubId, out var club))
            {
                return Rejected(change, RosterRejection.UnknownClub, $"club_ids: no club '{clubId}'");
            }

            if (club.HostLandlordId != context.LandlordId && !context.FederatedClubs.Contains(clubId))
            {
                return Rejected(change, RosterRejection.NoAgreementWithClub, context.NoticeRanOut.TryGetValue(clubId, out var endedAt)
                    ? $"club_ids: the landlord's agreement with club '{clubId}' ended at {endedAt.ToString("O", CultureInfo.InvariantCulture)} (its notice has run out)"
                    : $"club_ids: the landlord has no active agreement with club '{clubId}'");
            }
        }

        RosterItemOutcome outcome;
        if (household is null)
        {
            household = Household.Create(Guid.CreateVersion7(Now), context.LandlordId, change.LandlordReference,
                memberTokens.Compute(context.LandlordId, change.LandlordReference), change.Rooms, change.InQpv, Now, change.SourceVersion);
            context.NewHouseholds.Add(household);
            context.Households[change.LandlordReference] = household;
            outcome = RosterItemOutcome.Created;
        }
        else
        {
            outcome = household.ApplyRoster(change.Rooms, change.InQpv, HouseholdStatus.Active, change.SourceVersion, Now)
                ? RosterItemOutcome.Updated
                : RosterItemOutcome.Unchanged;
        }

        household.SeenInSession(session.Id);
        if (SyncMemberships(db, context, household, change.ClubIds) && outcome == RosterItemOutcome.Unchanged)
        {
            outcome = RosterItemOutcome.Updated;
        }

        return new RosterItemResult(change.Sequence, change.LandlordReference, outcome, MemberToken: household.MemberToken);
    }

    /// <summary>Makes the household's active memberships exactly <paramref name="clubIds"/>. Returns whether any changed.</summary>
    private bool SyncMemberships(HlmHubDbContext db, BatchContext context, Household household, IReadOnlyList<string> clubIds)
    {
        var wanted = clubIds.ToHashSet(StringComparer.Ordinal);
        var memberships = context.MembershipsOf(household.Id);
        var changed = false;
        foreach (var membership in memberships)
        {
            if (membership.IsActive && !wanted.Contains(membership.ClubId))
            {
                membership.Leave(Now);
                changed = true;
            }
            else if (!membership.IsActive && wanted.Contains(membership.ClubId))
            {
                membership.Rejoin(Now);
                changed = true;
            }
        }

        foreach (var clubId in wanted.Where(clubId => memberships.All(membership => membership.ClubId != clubId)))
        {
            var club = context.Clubs[clubId];
            var joined = Membership.Join(club, household, landlordFederated: club.HostLandlordId != context.LandlordId, Now);
            context.NewMemberships.Add(joined);
            memberships.Add(joined);
            changed = true;
        }

        return changed;
    }

    // Another landlord's session is answered as unknown: its existence is not this caller's business.
    private static DomainException UnknownSession(Guid sessionId) =>
        new(DomainErrorKind.NotFound, "session_id", $"no roster session {sessionId} for this landlord");

    private static DomainException CompletedSession(Guid sessionId) =>
        new(DomainErrorKind.FailedPrecondition, "session_id", $"session {sessionId} is completed: a completed session cannot be applied twice");

    private static RosterItemResult Rejected(RosterChange change, RosterRejection rejection, string message) =>
        new(change.Sequence, change.LandlordReference, RosterItemOutcome.Rejected, rejection, message);

    private async Task<RosterSession> RequireOpenSessionAsync(HlmHubDbContext db, Guid sessionId, string landlordId, CancellationToken cancellationToken)
    {
        var session = await db.RosterSessions.SingleOrDefaultAsync(item => item.Id == sessionId, cancellationToken);
        if (session is null || session.LandlordId != landlordId)
        {
            throw UnknownSession(sessionId);
        }

        EnsureOpen(session, Now);
        return session;
    }

    /// <summary>
    /// Refuses a session that is completed, abandoned, or idle for more than <see cref="RosterOptions.SessionIdleTimeout"/>:
    /// an idle session no longer counts as open, so another may have run since; a full snapshot completed after it
    /// would mark as left what that one wrote.
    /// </summary>
    private void EnsureOpen(RosterSession session, DateTimeOffset now)
    {
        switch (session.Status)
        {
            case RosterSessionStatus.Completed:
                throw CompletedSession(session.Id);
            case RosterSessionStatus.Abandoned:
                throw new DomainException(DomainErrorKind.FailedPrecondition, "session_id", $"session {session.Id} was abandoned: start a new session");
        }

        if (session.IsIdleAt(now, Limits.SessionIdleTimeout))
        {
            throw new DomainException(DomainErrorKind.FailedPrecondition, "session_id",
                $"session {session.Id} was idle for more than Roster:SessionIdleTimeout ({Limits.SessionIdleTimeout}): it takes no more batches and cannot be completed; start a new session");
        }
    }

    /// <summary>What one batch needs from the database, read in a few set-based queries.</summary>
    private sealed class BatchContext
    {
        private readonly Dictionary<Guid, List<Membership>> _memberships;

        /// <summary>
        /// Each known household's columns as read, to tell which ones the batch changed. Not EF Core's change tracking:
        /// reading the households tracked and writing the modified entries with BulkUpdate took a million-household
        /// delta from 0.8 s to 1.1-1.3 s (docs/benchmarks.md), past its 1 s target.
        /// </summary>
        private readonly Dictionary<Household, StoredHousehold> _stored;

        private BatchContext(
            string landlordId,
            Dictionary<string, Household> households,
            Dictionary<string, Club> clubs,
            HashSet<string> federatedClubs,
            Dictionary<string, DateTimeOffset> noticeRanOut,
            Dictionary<Guid, List<Membership>> memberships)
        {
            LandlordId = landlordId;
            Households = households;
            Clubs = clubs;
            FederatedClubs = federatedClubs;
            NoticeRanOut = noticeRanOut;
            _memberships = memberships;
            _stored = households.Values.ToDictionary(household => household, StoredHousehold.Of);
        }

        public string LandlordId { get; }

        public Dictionary<string, Household> Households { get; }

        /// <summary>Households created by this batch: inserted together after the loop, not tracked one by one.</summary>
        public List<Household> NewHouseholds { get; } = [];

        /// <summary>Memberships created by this batch (opt-ins of new and known households), inserted the same way.</summary>
        public List<Membership> NewMemberships { get; } = [];

        public Dictionary<string, Club> Clubs { get; }

        public HashSet<string> FederatedClubs { get; }

        /// <summary>
        /// The clubs whose agreement with the landlord still reads active but ended with notice that has run out,
        /// with the instant it ended: named in the refusal, so the landlord knows why an opt-in accepted before is not now.
        /// </summary>
        public Dictionary<string, DateTimeOffset> NoticeRanOut { get; }

        /// <summary>
        /// The known households the batch changed: those whose status changed (left or came back), those with another
        /// changed roster column, and those only marked as listed by the session. Each group writes only the columns it
        /// needs: the indexed StatusChangedAt for the first only.
        /// </summary>
        public (List<Household> StatusChanged, List<Household> Changed, List<Household> SeenOnly) KnownHouseholdsToWrite()
        {
            var statusChanged = new List<Household>();
            var changed = new List<Household>();
            var seenOnly = new List<Household>();
            foreach (var (household, stored) in _stored)
            {
                var now = StoredHousehold.Of(household);
                if (now.StatusChangedAt != stored.StatusChangedAt)
                {
                    statusChanged.Add(household);
                }
                else if (now with { LastSessionId = stored.LastSessionId } != stored)
                {
                    changed.Add(household);
                }
                else if (now.LastSessionId != stored.LastSessionId)
                {
                    seenOnly.Add(household);
                }
            }

            return (statusChanged, changed, seenOnly);
        }

        public List<Membership> MembershipsOf(Guid householdId)
        {
            if (!_memberships.TryGetValue(householdId, out var list))
            {
                list = [];
                _memberships[householdId] = list;
            }

            return list;
        }

        public static async Task<BatchContext> LoadAsync(
            HlmHubDbContext db, string landlordId, IReadOnlyList<RosterChange> batch, DateTimeOffset now, CancellationToken cancellationToken)
        {
            // Only values that can be someone's reference or club id are looked up: a control character (a NUL, which
            // PostgreSQL refuses in a query) would fail the whole batch, where its item alone is MALFORMED (CheckShape).
            var references = batch.Select(change => change.LandlordReference)
                .Where(reference => !string.IsNullOrEmpty(reference) && PrintableText.Is(reference)).Distinct().ToList();
            // Not tracked: the batch writes the ones it changed itself (KnownHouseholdsToWrite, BulkUpdate). On SQLite
            // each list goes as one JSON parameter, as the storage sets for every query (docs/storage.md).
            var households = await db.Households.AsNoTracking()
                .Where(household => household.LandlordId == landlordId && references.Contains(household.LandlordReference))
                .ToDictionaryAsync(household => household.LandlordReference, StringComparer.Ordinal, cancellationToken);
            var householdIds = households.Values.Select(household => household.Id).ToList();
            var memberships = (await db.Memberships.Where(membership => householdIds.Contains(membership.HouseholdId)).ToListAsync(cancellationToken))
                .GroupBy(membership => membership.HouseholdId)
                .ToDictionary(group => group.Key, group => group.ToList());
            var clubIds = batch.SelectMany(change => change.ClubIds ?? []).Where(PrintableText.Is).Distinct().ToList();
            var clubs = await db.Clubs.AsNoTracking().Where(club => clubIds.Contains(club.Id))
                .ToDictionaryAsync(club => club.Id, StringComparer.Ordinal, cancellationToken);
            // An agreement ended with notice stays Active in the table until its end date: judge it as of now, as
            // eligibility does (FederationAgreement.IsActiveAt).
            var agreements = await db.FederationAgreements.AsNoTracking()
                .Where(agreement => agreement.LandlordId == landlordId && agreement.Status == FederationStatus.Active && clubIds.Contains(agreement.ClubId))
                .ToListAsync(cancellationToken);
            var federated = agreements.Where(agreement => agreement.IsActiveAt(now)).Select(agreement => agreement.ClubId).ToHashSet(StringComparer.Ordinal);
            var noticeRanOut = agreements.Where(agreement => !agreement.IsActiveAt(now) && agreement.EndedAt is not null)
                .ToDictionary(agreement => agreement.ClubId, agreement => agreement.EndedAt!.Value, StringComparer.Ordinal);
            return new BatchContext(landlordId, households, clubs, federated, noticeRanOut, memberships);
        }
    }
}

/// <summary>The columns of a household that a roster batch can change, as read or as they are now.</summary>
internal readonly record struct StoredHousehold(
    int Rooms, bool InQpv, HouseholdStatus Status, long Version, DateTimeOffset UpdatedAt, DateTimeOffset StatusChangedAt, long SourceVersion,
    Guid? LastSessionId)
{
    public static StoredHousehold Of(Household household) => new(
        household.Rooms, household.InQpv, household.Status, household.Version, household.UpdatedAt, household.StatusChangedAt,
        household.SourceVersion, household.LastSessionId);
}
