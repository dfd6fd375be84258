using HlmHub.Grpc;
using HlmHub.Grpc.Client;
using HlmHub.Grpc.Health.V1;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Identity.Tests.Secured;
using HlmHub.Storage.Identity;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Tests;

public sealed class ResourceServerTests
{
    [Fact]
    public async Task MissingOrGarbageToken_IsUnauthenticatedAndHandlerNeverRuns()
    {
        await using var host = await IdentityTestHost.StartAsync();

        var missing = await host.CallFailsAsync("WhoAmI", token: null);
        var garbage = await host.CallFailsAsync("WhoAmI", token: "not-a-jwt");

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains("Missing access token", missing.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, garbage.StatusCode);
        Assert.Empty(host.Probe.Executed);
    }

    [Fact]
    public async Task HealthService_IsAnonymousByDefaultConfiguration()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var check = new Method<HealthCheckRequest, HealthCheckResponse>(HealthReflection.Descriptor.Services[0].FindMethodByName("Check"));

        using var call = host.Channel.UnaryCall(check, new HealthCheckRequest());
        var response = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task ScopeNotGranted_IsPermissionDeniedAndAudited()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.offers.read", "hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(client, scope: "hlmhub.test");

        var status = await host.CallFailsAsync("ReadOffers", token, ownerId: "maaf");

        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
        Assert.Contains("hlmhub.offers.read", status.Detail, StringComparison.Ordinal);
        Assert.Empty(host.Probe.Executed);
        var audit = Assert.Single(host.Logs, r => r.EventId.Id == IdentityEventIds.RpcDenied);
        Assert.Equal(LogLevel.Warning, audit.Level);
        Assert.Contains(client.ClientId, audit.Message, StringComparison.Ordinal);
        Assert.Contains("/hlmhub.identity.tests.SecuredService/ReadOffers", audit.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(token, audit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongCallerKind_IsPermissionDenied()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var partner = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.roster"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(partner);

        var status = await host.CallFailsAsync("PushRoster", token, ownerId: "maaf");

        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
        Assert.Empty(host.Probe.Executed);
    }

    [Fact]
    public async Task PartnerA_ActingOnPartnerBData_IsPermissionDenied()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var partnerA = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "A", ["hlmhub.offers.read"], PartnerId: "partner-a"));
        var token = await host.GetTokenAsync(partnerA);

        var own = await host.CallAsync("ReadOffers", token, ownerId: "partner-a");
        var other = await host.CallFailsAsync("ReadOffers", token, ownerId: "partner-b");

        Assert.Equal(partnerA.ClientId, own.ClientId);
        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
        Assert.Contains("partner-b", other.Detail, StringComparison.Ordinal);
        Assert.Equal(["ReadOffers"], host.Probe.Executed);
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.RpcDenied && r.Message.Contains("partner 'partner-b'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Landlord_WritingAnotherLandlordsRoster_IsPermissionDenied()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var landlord = await host.RegisterAsync(new ClientRegistration(ClientKind.Landlord, "PCH", ["hlmhub.roster"], LandlordId: "pch"));
        var token = await host.GetTokenAsync(landlord);

        var status = await host.CallFailsAsync("PushRoster", token, ownerId: "amsom");

        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
        Assert.Empty(host.Probe.Executed);
    }

    [Fact]
    public async Task ClubAdmin_OnlyOnOwnClub_HubAdminOnAny()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var clubAdmin = await host.RegisterAsync(new ClientRegistration(ClientKind.Admin, "Club PCH", ["hlmhub.admin"], ClubId: "club-pch"));
        var hubAdmin = await host.RegisterAsync(new ClientRegistration(ClientKind.Admin, "Hub", ["hlmhub.admin"]));
        var clubToken = await host.GetTokenAsync(clubAdmin);
        var hubToken = await host.GetTokenAsync(hubAdmin);

        var own = await host.CallAsync("ManageClub", clubToken, ownerId: "club-pch");
        var other = await host.CallFailsAsync("ManageClub", clubToken, ownerId: "club-amsom");
        var hub = await host.CallAsync("ManageClub", hubToken, ownerId: "club-amsom");

        Assert.Equal("ClubAdmin", own.Kind);
        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
        Assert.Equal("HubAdmin", hub.Kind);
    }

    [Fact]
    public async Task HandlerThatSkipsItsDeclaredOwnershipCheck_FailsTheCallLoudly()
    {
        await using var host = await IdentityTestHost.StartAsync();
        host.ExpectErrorLog(r => r.EventId.Id == IdentityEventIds.OwnershipNotChecked);
        var partner = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(partner);

        var status = await host.CallFailsAsync("ForgetsOwnership", token, ownerId: "someone-else");

        Assert.Equal(StatusCode.Internal, status.StatusCode);
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.OwnershipNotChecked && r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task ServiceWithAnRpcWithoutPolicy_FailsStartUp()
    {
        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => IdentityTestHost.StartAsync(
            map: app => HlmHub.Grpc.GrpcServerExtensions.MapGrpcService<UndeclaredTestService>(app, SecuredReflection.Descriptor.Services[0])));

        Assert.Contains("PushRoster", exception.Message, StringComparison.Ordinal);
        Assert.Contains("[RpcPolicy]", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceListedAsAnonymous_IsServedWithoutToken()
    {
        await using var host = await IdentityTestHost.StartAsync(
            new Dictionary<string, string?> { ["Auth:AnonymousServices:0"] = "hlmhub.identity.tests.SecuredService" },
            map: app => HlmHub.Grpc.GrpcServerExtensions.MapGrpcService<UndeclaredTestService>(app, SecuredReflection.Descriptor.Services[0]));

        var reply = await host.CallAsync("PushRoster", token: null);

        Assert.NotNull(reply);
    }
}
