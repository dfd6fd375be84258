using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using static HlmHub.Server.Tests.Infrastructure.RosterCalls;

namespace HlmHub.Server.Tests;

/// <summary>
/// A roster session's answer and a page of member tokens are each one message. At the largest settings the hub starts
/// with for the smallest <c>Hub:MaxMessageSizeBytes</c>, with references and problem messages at their longest in
/// three-byte characters, both still arrive: the start-up bound (ReplyMessageSize) holds on the wire.
/// </summary>
public sealed class ReplyMessageSizeTests
{
    private const int MaxMessageSizeBytes = 16 * 1024;

    // The largest values ReplyMessageSize allows at 16 KiB (the hub refuses one more at start-up).
    private const int MaxProblemsReported = 8;

    private const int MemberTokensPageSize = 43;

    [Fact]
    public async Task AtTheLargestAllowedLimits_ARosterAnswerAndItsMemberTokenPages_FitTheSmallestMessageSize()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(
            database,
            $"--Hub:MaxMessageSizeBytes={MaxMessageSizeBytes}",
            "--Statements:MaxEventIds=10",
            "--Statements:MaxLines=10",
            "--Reconciliation:MaxDiscrepanciesInReport=4",
            $"--Roster:MaxProblemsReported={MaxProblemsReported}",
            $"--Roster:MemberTokensPageSize={MemberTokensPageSize}");
        var admin = await hub.HubAdminAsync();
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var registered = await admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Landlord,
            DisplayName = "Roster sync",
            LandlordId = landlord.Id,
            Scopes = { "hlmhub.roster" },
        }, options));
        var token = await hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
        var roster = new RosterService.RosterServiceClient(hub.Channel);
        // 100 characters of three bytes each: the longest reference; a club id that is none gives the longest message.
        static string Reference(int index) => $"{index:000}" + new string('€', 97);
        HouseholdChange[] rejected = [.. Enumerable.Range(1, 3 * MaxProblemsReported).Select(index => Item(index, Reference(index), clubs: [new string('€', 60)]))];
        HouseholdChange[] accepted = [.. Enumerable.Range(500, 2 * MemberTokensPageSize).Select(index => Item(index, Reference(index)))];

        // In batches of 8: a request is held to the same message size.
        var answer = await SyncAsync(roster, token, Guid.NewGuid().ToString(), SessionKind.Delta, [.. rejected.Concat(accepted).Chunk(8)]);
        var tokens = await ListMemberTokensAsync(roster, token);

        Assert.Equal(MaxProblemsReported, answer.Problems.Count);
        Assert.True(answer.ProblemsTruncated);
        Assert.All(answer.Problems, problem => Assert.Equal(RejectionReason.Malformed, problem.Reason));
        Assert.Equal(2 * MemberTokensPageSize, tokens.Count);
    }
}
