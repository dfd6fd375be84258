using Grpc.Core;
using HlmHub.Identity.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace HlmHub.Identity.Tests;

/// <summary>The ownership rules themselves, without a server.</summary>
public sealed class OwnershipRulesTests
{
    private static AuthenticatedCaller Caller(CallerKind kind, Ownership declared, string? partner = null, string? landlord = null, string? club = null) =>
        new(
            new CallerIdentity("https://hub.example", "client-1", kind, partner, landlord, club, new HashSet<string> { "s" }, DateTimeOffset.MaxValue, DateTimeOffset.MinValue),
            new RpcPolicyAttribute("s", CallerKind.Any, declared),
            new CallAuditor(NullLogger.Instance, new DeniedCallLog(TimeProvider.System), null, "/svc/Rpc"));

    [Fact]
    public void EachCallerOwnsOnlyItsOwnBinding()
    {
        var all = Ownership.OwnPartner | Ownership.OwnLandlord | Ownership.OwnClub;

        Assert.True(Caller(CallerKind.Partner, all, partner: "p1").Owns(OwnerKind.Partner, "p1"));
        Assert.False(Caller(CallerKind.Partner, all, partner: "p1").Owns(OwnerKind.Partner, "p2"));
        Assert.False(Caller(CallerKind.Partner, all, partner: "p1").Owns(OwnerKind.Landlord, "p1"));
        Assert.True(Caller(CallerKind.Landlord, all, landlord: "l1").Owns(OwnerKind.Landlord, "l1"));
        Assert.False(Caller(CallerKind.Landlord, all, landlord: "l1").Owns(OwnerKind.Club, "l1"));
        Assert.True(Caller(CallerKind.ClubAdmin, all, club: "c1").Owns(OwnerKind.Club, "c1"));
        Assert.False(Caller(CallerKind.ClubAdmin, all, club: "c1").Owns(OwnerKind.Partner, "c1"));
        Assert.True(Caller(CallerKind.HubAdmin, all).Owns(OwnerKind.Partner, "anyone"));
    }

    [Fact]
    public void EnsureOwns_ThrowsPermissionDeniedAndCountsAsTheCheck()
    {
        var caller = Caller(CallerKind.Partner, Ownership.OwnPartner, partner: "p1");

        var exception = Assert.Throws<RpcException>(() => caller.EnsureOwns(OwnerKind.Partner, "p2"));

        Assert.Equal(StatusCode.PermissionDenied, exception.StatusCode);
        Assert.True(caller.OwnershipChecked);
    }

    [Fact]
    public void CheckingAnOwnershipThePolicyDoesNotDeclare_IsABug()
    {
        var caller = Caller(CallerKind.Landlord, Ownership.OwnPartner, landlord: "l1");

        var exception = Assert.Throws<InvalidOperationException>(() => caller.EnsureOwns(OwnerKind.Landlord, "l1"));

        Assert.Contains("OwnLandlord", exception.Message, StringComparison.Ordinal);
        Assert.False(caller.OwnershipChecked);
    }
}
