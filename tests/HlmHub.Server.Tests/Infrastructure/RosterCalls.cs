using Grpc.Core;
using HlmHub.Contracts.V1;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>
/// A landlord's roster calls as the tests make them over the real hub: the messages of a sync session, a whole
/// session sent at once, the member tokens, and waiting for a session's committed progress.
/// </summary>
internal static class RosterCalls
{
    /// <summary>Call options with <paramref name="token"/> (none: anonymous) and the tests' deadline.</summary>
    public static CallOptions Options(string? token, CancellationToken cancellationToken = default)
    {
        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("authorization", "Bearer " + token);
        }

        return new CallOptions(headers, TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default), cancellationToken);
    }

    public static SyncRosterRequest Start(string sessionId, SessionKind kind) => new() { Start = new SessionStart { SessionId = sessionId, Kind = kind } };

    public static SyncRosterRequest Batch(params HouseholdChange[] items)
    {
        var batch = new RosterBatch();
        batch.Items.AddRange(items);
        return new SyncRosterRequest { Batch = batch };
    }

    public static HouseholdChange Item(long sequence, string reference, long version = 1, int rooms = 3, string[]? clubs = null)
    {
        var item = new HouseholdChange { Sequence = sequence, Kind = ChangeKind.Upsert, LandlordReference = reference, Version = version, Rooms = rooms };
        item.ClubIds.AddRange(clubs ?? []);
        return item;
    }

    /// <summary>One whole session: start, the batches, complete. The hub may end the call early: its status is the answer's.</summary>
    public static async Task<SyncRosterResponse> SyncAsync(
        RosterService.RosterServiceClient client, string? token, string sessionId, SessionKind kind, IEnumerable<HouseholdChange[]> batches)
    {
        using var call = client.SyncRoster(Options(token));
        try
        {
            await call.RequestStream.WriteAsync(Start(sessionId, kind));
            foreach (var batch in batches)
            {
                await call.RequestStream.WriteAsync(Batch(batch));
            }

            await call.RequestStream.WriteAsync(new SyncRosterRequest { Complete = new SessionComplete() });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The hub ended the call early (a refused session): its status is in the response.
        }
        catch (InvalidOperationException)
        {
            // Writing after the call ended: the same.
        }

        return await call.ResponseAsync.DefaultTimeout();
    }

    public static async Task<List<MemberTokenEntry>> ListMemberTokensAsync(RosterService.RosterServiceClient client, string token)
    {
        using var call = client.ListMemberTokens(new ListMemberTokensRequest(), Options(token));
        var entries = new List<MemberTokenEntry>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            entries.AddRange(call.ResponseStream.Current.Entries);
        }

        return entries;
    }

    /// <summary>Waits until the session's committed progress (<c>last_sequence</c>) reaches <paramref name="sequence"/>.</summary>
    public static Task WaitForLastSequenceAsync(RosterService.RosterServiceClient client, string token, string sessionId, long sequence) =>
        Poll.UntilAsync(
            async () =>
            {
                try
                {
                    var session = await client.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = sessionId }, Options(token));
                    return session.LastSequence >= sequence;
                }
                catch (RpcException exception) when (exception.StatusCode == StatusCode.NotFound)
                {
                    // Not opened yet.
                    return false;
                }
            },
            $"for session {sessionId} to reach sequence {sequence}",
            every: TimeSpan.FromMilliseconds(50));
}
