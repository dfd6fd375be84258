using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Domain.Roster;
using HlmHub.Identity;
using Microsoft.Extensions.Options;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Roster;

/// <summary>
/// <c>hlmhub.v1.RosterService</c> (protos/hlmhub/v1/roster.proto, docs/roster.md): landlord systems stream their
/// pseudonymised rosters. The landlord is the one bound to the caller's token, never a request field. The work is
/// done by <see cref="RosterSync"/>; this class reads the stream, checks its shape, and maps to and from the contract.
/// </summary>
internal sealed class RosterService(RosterSync sync, IOptions<RosterOptions> options, IHostApplicationLifetime lifetime, ILogger<RosterService> logger)
    : V1.RosterService.RosterServiceBase
{
    /// <summary>The scope every RosterService rpc requires.</summary>
    public const string Scope = "hlmhub.roster";

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override async Task<V1.SyncRosterResponse> SyncRoster(IAsyncStreamReader<V1.SyncRosterRequest> requestStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var landlordId = OwnLandlord(context);
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.MessageCase != V1.SyncRosterRequest.MessageOneofCase.Start)
        {
            throw Invalid("start", "the first message of a session must be `start`");
        }

        var start = requestStream.Current.Start;
        var session = await sync.OpenAsync(landlordId, ParseSessionId(start.SessionId), ToDomain(start.Kind), cancellationToken);
        var response = new V1.SyncRosterResponse();
        var completed = false;
        // On shutdown (SIGTERM) the session stops reading, commits what it applied and ends UNAVAILABLE at once,
        // rather than holding the hub's drain (Hub:ShutdownDrainTimeout) and being cut off: the landlord resumes it.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        await using (var writer = sync.BeginWriting(session.Id, landlordId))
        {
            while (true)
            {
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // Checked here too: messages already buffered are read without waiting.
                    await writer.CommitAsync(cancellationToken);
                    throw ShuttingDown(session.Id);
                }

                var next = requestStream.MoveNext(reading.Token);
                if (!next.IsCompletedSuccessfully)
                {
                    // Nothing more has arrived yet (or the stream broke): commit what was applied rather than hold a
                    // transaction (and SQLite's write lock) open while waiting on the landlord.
                    await writer.CommitAsync(cancellationToken);
                }

                bool more;
                try
                {
                    more = await next;
                }
                catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    await writer.CommitAsync(cancellationToken);
                    throw ShuttingDown(session.Id);
                }

                if (!more)
                {
                    break;
                }

                var message = requestStream.Current;
                switch (message.MessageCase)
                {
                    case V1.SyncRosterRequest.MessageOneofCase.Batch:
                        // Its problems are kept with the session (RosterSync.KeepProblemsAsync) and read back at the end.
                        await writer.ApplyAsync([.. message.Batch.Items.Select(ToDomain)], cancellationToken);
                        break;
                    case V1.SyncRosterRequest.MessageOneofCase.Complete:
                        await writer.CommitAsync(cancellationToken);
                        session = await sync.CompleteAsync(session.Id, landlordId, cancellationToken);
                        completed = true;
                        break;
                    default:
                        await writer.CommitAsync(cancellationToken);
                        throw Invalid("message", "after `start`, send `batch` messages then one `complete`");
                }

                if (completed)
                {
                    if (await requestStream.MoveNext(cancellationToken))
                    {
                        throw Invalid("complete", "nothing may follow `complete`");
                    }

                    break;
                }
            }

            await writer.CommitAsync(cancellationToken);
        }

        // A stream that ends without `complete` leaves the session open, to be resumed: its progress is committed.
        session = completed ? session : await sync.GetAsync(landlordId, session.Id, cancellationToken);
        response.Session = ToProto(session);
        // Read back from the session, not from what this stream decided: a stream resuming a broken one skips the items
        // it committed, and their problems must still be listed.
        var problems = await sync.ListProblemsAsync(session.Id, cancellationToken);
        response.Problems.AddRange(problems.Select(ToProto));
        response.ProblemsTruncated = session.Stale + session.Rejected > problems.Count;
        RosterLog.SessionEnded(logger, landlordId, session.Id, session.Kind, completed, session.Items);
        return response;
    }

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override async Task<V1.SyncSession> GetSyncSession(V1.GetSyncSessionRequest request, ServerCallContext context)
    {
        var landlordId = OwnLandlord(context);
        return ToProto(await sync.GetAsync(landlordId, ParseSessionId(request.SessionId), context.CancellationToken));
    }

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override async Task<V1.SyncSession> AbandonSyncSession(V1.AbandonSyncSessionRequest request, ServerCallContext context)
    {
        var landlordId = OwnLandlord(context);
        var session = await sync.AbandonAsync(landlordId, ParseSessionId(request.SessionId), context.CancellationToken);
        RosterLog.SessionAbandoned(logger, landlordId, session.Id, session.Kind, session.Items);
        return ToProto(session);
    }

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override async Task ListMemberTokens(V1.ListMemberTokensRequest request, IServerStreamWriter<V1.MemberTokenPage> responseStream, ServerCallContext context)
    {
        var landlordId = OwnLandlord(context);
        var after = request.AfterReference;
        while (true)
        {
            var entries = await sync.ListMemberTokensAsync(landlordId, after, context.CancellationToken);
            if (entries.Count == 0)
            {
                return;
            }

            var page = new V1.MemberTokenPage();
            page.Entries.AddRange(entries.Select(entry => new V1.MemberTokenEntry
            {
                LandlordReference = entry.Reference,
                MemberToken = entry.MemberToken,
                Active = entry.Active,
            }));
            // WriteAsync waits for HTTP/2 flow control: a slow reader slows the reads, nothing piles up in memory.
            await responseStream.WriteAsync(page, context.CancellationToken);
            after = entries[^1].Reference;
        }
    }

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.None)]
    public override Task<V1.RosterLimits> GetRosterLimits(V1.GetRosterLimitsRequest request, ServerCallContext context)
    {
        var limits = options.Value;
        return Task.FromResult(new V1.RosterLimits
        {
            MaxItemsPerBatch = limits.MaxItemsPerBatch,
            MaxItemsPerCommit = limits.MaxItemsPerCommit,
            MaxItemsPerSession = limits.MaxItemsPerSession,
            MaxOpenSessionsPerLandlord = limits.MaxOpenSessionsPerLandlord,
            SessionIdleTimeoutSeconds = (long)limits.SessionIdleTimeout.TotalSeconds,
            MaxProblemsReported = limits.MaxProblemsReported,
            MaxClubsPerHousehold = RosterRules.MaxClubsPerHousehold,
        });
    }

    /// <summary>The caller's own landlord, checked as owned before anything is read or written.</summary>
    private static string OwnLandlord(ServerCallContext context)
    {
        var caller = context.GetCaller();
        var landlordId = caller.LandlordId ?? throw new RpcException(new Status(StatusCode.PermissionDenied, "The token is bound to no landlord."));
        caller.EnsureOwns(OwnerKind.Landlord, landlordId);
        return landlordId;
    }

    private static V1.ItemProblem ToProto(RosterSessionProblem problem) => new()
    {
        Sequence = problem.Sequence,
        LandlordReference = problem.LandlordReference,
        Status = problem.Status == RosterItemOutcome.Stale ? V1.ItemStatus.Stale : V1.ItemStatus.Rejected,
        Reason = ToProto(problem.Reason),
        Message = problem.Message,
    };

    private static Guid ParseSessionId(string text) =>
        Guid.TryParse(text, out var id) && id != Guid.Empty ? id : throw Invalid("session_id", "must be a UUID chosen by the landlord");

    /// <summary>The status of a session ended by the hub's shutdown: what it applied is committed, and it stays open.</summary>
    public static RpcException ShuttingDown(Guid sessionId) => new(new Status(StatusCode.Unavailable,
        $"the hub is shutting down: what this stream sent so far is committed and session {sessionId} stays open; resume it "
        + "(GetSyncSession reports its progress) on another instance or after restart"));

    private static DomainException Invalid(string field, string rule) => new(DomainErrorKind.InvalidArgument, field, rule);

    private static RosterSessionKind ToDomain(V1.SessionKind kind) => kind switch
    {
        V1.SessionKind.FullSnapshot => RosterSessionKind.FullSnapshot,
        V1.SessionKind.Delta => RosterSessionKind.Delta,
        _ => throw Invalid("kind", "must be SESSION_KIND_FULL_SNAPSHOT or SESSION_KIND_DELTA"),
    };

    private static RosterChange ToDomain(V1.HouseholdChange item) => new(
        item.Sequence,
        item.Kind switch
        {
            V1.ChangeKind.Upsert => RosterChangeKind.Upsert,
            V1.ChangeKind.Remove => RosterChangeKind.Remove,
            // Reported for this item alone by RosterRules.CheckShape: one bad item never fails the stream.
            _ => (RosterChangeKind)(-1),
        },
        item.LandlordReference,
        item.Version,
        item.Rooms,
        item.InQpv,
        [.. item.ClubIds]);

    private static V1.SyncSession ToProto(RosterSession session) => new()
    {
        SessionId = session.Id.ToString(),
        Kind = session.Kind == RosterSessionKind.FullSnapshot ? V1.SessionKind.FullSnapshot : V1.SessionKind.Delta,
        Completed = session.Status == RosterSessionStatus.Completed,
        Abandoned = session.Status == RosterSessionStatus.Abandoned,
        LastSequence = session.LastSequence,
        Created = session.Created,
        Updated = session.Updated,
        Removed = session.Removed,
        Unchanged = session.Unchanged,
        Stale = session.Stale,
        Rejected = session.Rejected,
        StartedAt = Timestamp.FromDateTimeOffset(session.StartedAt),
        CompletedAt = session.CompletedAt is { } completedAt ? Timestamp.FromDateTimeOffset(completedAt) : null,
    };

    private static V1.RejectionReason ToProto(RosterRejection rejection) => rejection switch
    {
        RosterRejection.Malformed => V1.RejectionReason.Malformed,
        RosterRejection.RoomsOutOfRange => V1.RejectionReason.RoomsOutOfRange,
        RosterRejection.DuplicateReference => V1.RejectionReason.DuplicateReference,
        RosterRejection.UnknownClub => V1.RejectionReason.UnknownClub,
        RosterRejection.NoAgreementWithClub => V1.RejectionReason.NoAgreementWithClub,
        RosterRejection.UnknownHousehold => V1.RejectionReason.UnknownHousehold,
        RosterRejection.TooManyClubs => V1.RejectionReason.TooManyClubs,
        _ => V1.RejectionReason.Unspecified,
    };
}

/// <summary>Roster log events: counts and ids only, never a landlord reference (it identifies a tenant to the landlord).</summary>
internal static partial class RosterLog
{
    [LoggerMessage(EventId = 4501, Level = LogLevel.Information,
        Message = "Roster session {SessionId} ({Kind}) of landlord {LandlordId}: stream ended, completed {Completed}, {Items} items applied")]
    public static partial void SessionEnded(ILogger logger, string landlordId, Guid sessionId, RosterSessionKind kind, bool completed, long items);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Information,
        Message = "Roster session {SessionId} ({Kind}) of landlord {LandlordId}: abandoned, {Items} items applied before")]
    public static partial void SessionAbandoned(ILogger logger, string landlordId, Guid sessionId, RosterSessionKind kind, long items);
}
