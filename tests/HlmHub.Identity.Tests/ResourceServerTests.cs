using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using HlmHub.Identity.ResourceServer;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Identity.Tests.Secured;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Server;

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

    // A caller in a loop with a bad token wrote one warning per call: any client could fill the log.
    [Fact]
    public async Task ACallerDeniedInALoop_IsLoggedOnceAMinute_AndItsNextEntryCountsTheDenialsLeftOut()
    {
        await using var host = await IdentityTestHost.StartAsync();

        for (var call = 0; call < 20; call++)
        {
            Assert.Equal(StatusCode.Unauthenticated, (await host.CallFailsAsync("WhoAmI", token: "not-a-jwt")).StatusCode);
        }

        Assert.Single(host.Logs, r => r.EventId.Id == IdentityEventIds.RpcDenied);
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(StatusCode.Unauthenticated, (await host.CallFailsAsync("WhoAmI", token: "not-a-jwt")).StatusCode);
        var entries = host.Logs.Where(r => r.EventId.Id == IdentityEventIds.RpcDenied).ToList();
        Assert.Equal(2, entries.Count);
        Assert.Contains("19 more denials since this caller's last entry were not logged", entries[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthService_IsServedWithoutToken()
    {
        await using var host = await IdentityTestHost.StartAsync();

        var response = await new Health.HealthClient(host.Channel).CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task ACachedTokenOfARevokedKey_IsRefusedAtOnceOnThisInstance()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var (_, token) = await CachedTokenAsync(host);

        await host.Services.GetRequiredService<ISigningKeyRotation>().RevokeAsync(new JsonWebToken(token).Kid, CancellationToken.None);
        var refused = await host.CallFailsAsync("WhoAmI", token);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("signing key", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACachedTokenOfAKeyDeletedFromTheDatabase_IsRefusedOnceTheKeysAreReread()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var (client, token) = await CachedTokenAsync(host);

        // The documented emergency procedure, as another instance or a DBA runs it: the row is deleted.
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync())
        {
            var kid = new JsonWebToken(token).Kid;
            Assert.Equal(1, await db.SigningKeys.Where(key => key.KeyId == kid).ExecuteDeleteAsync());
        }

        var beforeReread = await host.CallAsync("WhoAmI", token);
        host.Clock.Advance(new AuthOptions().EmbeddedIssuer.KeyCacheRefreshInterval + TimeSpan.FromSeconds(1));
        var refused = await host.CallFailsAsync("WhoAmI", token);

        // Until this instance re-reads its keys (Auth:EmbeddedIssuer:KeyCacheRefreshInterval), the cached token still passes.
        Assert.Equal(client.ClientId, beforeReread.ClientId);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("signing key", refused.Detail, StringComparison.Ordinal);
    }

    /// <summary>A partner client's token, used once: the validated-token cache holds it.</summary>
    private static async Task<(RegisteredClient Client, string Token)> CachedTokenAsync(IdentityTestHost host)
    {
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(client);
        await host.CallAsync("WhoAmI", token);
        Assert.True(host.Services.GetRequiredService<ValidatedTokenCache>().TryGet(token, out _));
        return (client, token);
    }

    [Fact]
    public async Task TokenSeenBefore_IsServedFromTheCacheUntilItExpires()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(client);
        var cache = host.Services.GetRequiredService<ValidatedTokenCache>();

        await host.CallAsync("WhoAmI", token);
        Assert.True(cache.TryGet(token, out var first));
        await host.CallAsync("WhoAmI", token);
        Assert.True(cache.TryGet(token, out var second));

        // The same entry answered the second call: no second validation replaced it.
        Assert.Same(first, second);
        host.Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.False(cache.TryGet(token, out _));
        var expired = await host.CallFailsAsync("WhoAmI", token);
        Assert.Equal(StatusCode.Unauthenticated, expired.StatusCode);
        Assert.Contains("expired", expired.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthorizationServices_AreBuiltOnceForEveryCall_AndStillRefuseAndAllow()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.offers.read", "hlmhub.test"], PartnerId: "maaf"));
        var allowed = await host.GetTokenAsync(client, scope: "hlmhub.test");
        var lacking = await host.GetTokenAsync(client, scope: "hlmhub.offers.read");

        // Each call resolves these from its own request scope: one instance for all of them, not one per call.
        Type[] shared = [typeof(IPolicyEvaluator), typeof(IAuthorizationService), typeof(IAuthorizationHandlerProvider), typeof(IAuthorizationEvaluator), typeof(IAuthorizationHandlerContextFactory)];
        await using (var first = host.Services.CreateAsyncScope())
        await using (var second = host.Services.CreateAsyncScope())
        {
            foreach (var type in shared)
            {
                Assert.Same(first.ServiceProvider.GetRequiredService(type), second.ServiceProvider.GetRequiredService(type));
            }

            Assert.Equal(
                first.ServiceProvider.GetServices<IAuthorizationHandler>().Select(handler => handler.GetType()),
                second.ServiceProvider.GetServices<IAuthorizationHandler>().Select(handler => handler.GetType()));
            Assert.All(first.ServiceProvider.GetServices<IAuthorizationHandler>().Zip(second.ServiceProvider.GetServices<IAuthorizationHandler>()),
                pair => Assert.Same(pair.First, pair.Second));
        }

        var reply = await host.CallAsync("WhoAmI", allowed);
        var denied = await host.CallFailsAsync("WhoAmI", lacking);
        var again = await host.CallAsync("WhoAmI", allowed);

        Assert.Equal(client.ClientId, reply.ClientId);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("hlmhub.test", denied.Detail, StringComparison.Ordinal);
        Assert.Equal(client.ClientId, again.ClientId);
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
        // The answer does not say who owns what (the id is in the audit log, below).
        Assert.Equal("Permission denied: the caller does not own the partner this request is about.", other.Detail);
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
    public async Task WorkACallLeftBehind_WritesAfterTheCallEnded_WithoutItsOwnershipCheck()
    {
        // Within the call, the unchecked caller stops a write (previous test); once the call has ended, its flow no
        // longer carries that caller, so work it started and left running (which captured the flow) is not refused.
        await using var host = await IdentityTestHost.StartAsync();
        host.ExpectErrorLog(r => r.EventId.Id == IdentityEventIds.OwnershipNotChecked);
        var partner = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(partner);
        await host.CallFailsAsync("ForgetsOwnership", token, ownerId: "someone-else");
        var leftBehind = host.Probe.LeftBehind ?? throw new InvalidOperationException("the rpc did not run");
        var factory = host.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<HlmHub.Storage.HlmHubDbContext>>();

        // The server ends the request just after the client has its answer: retry until then, refused meanwhile.
        Exception? refused = null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            refused = null;
            try
            {
                ExecutionContext.Run(leftBehind, _ =>
                {
                    using var db = factory.CreateDbContext();
                    db.Landlords.Add(HlmHub.Domain.Landlord.Create("written-after-the-call", "Written after the call ended", "732829320", TimeProvider.System.GetUtcNow()));
                    db.SaveChanges();
                }, null);
            }
            catch (InvalidOperationException exception)
            {
                refused = exception;
                await Task.Delay(50);
            }
        }
        while (refused is not null && waited.Elapsed < TimeSpan.FromSeconds(10));

        Assert.Null(refused);
        await using var reader = await factory.CreateDbContextAsync();
        Assert.True(await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(reader.Landlords, landlord => landlord.Id == "written-after-the-call"));
    }

    [Fact]
    public async Task HandlerThatWritesBeforeItsOwnershipCheck_IsStoppedBeforeTheWrite()
    {
        await using var host = await IdentityTestHost.StartAsync();
        host.ExpectErrorLog(r => r.Level >= LogLevel.Error);
        var partner = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(partner);

        var status = await host.CallFailsAsync("WritesBeforeChecking", token, ownerId: "someone-else");

        // The write guard's exception ends the call inside the handler: gRPC's UNKNOWN with its generic detail, which
        // tells the caller nothing of the guard (the check after the handler, had the write gone through, answers INTERNAL).
        Assert.Equal((StatusCode.Unknown, "Exception was thrown by handler."), (status.StatusCode, status.Detail));
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.OwnershipNotChecked && r.Level == LogLevel.Error);
        var db = await host.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<HlmHub.Storage.HlmHubDbContext>>().CreateDbContextAsync();
        await using (db)
        {
            Assert.False(await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.Landlords, landlord => landlord.Id == "someone-else"));
        }
    }

    [Fact]
    public async Task IssuerRunsOnItsOwnRoutesOnly_NotOnGrpcCallsNorOtherRequests()
    {
        // OpenIddict's server is an authentication request handler: unless the hub keeps it to its routes, ASP.NET
        // Core runs its request pipeline on every request. Counted with an OpenIddict handler of the test's own,
        // placed first on every request OpenIddict processes.
        await using var host = await IdentityTestHost.StartAsync(services: services =>
        {
            services.AddSingleton<IssuerRequestCounter>();
            services.AddOpenIddict().AddServer(server => server.AddEventHandler(IssuerRequestCounter.Descriptor));
        });
        var counter = host.Services.GetRequiredService<IssuerRequestCounter>();
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var token = await host.GetTokenAsync(client);
        var afterToken = counter.Count;

        for (var call = 0; call < 3; call++)
        {
            await host.CallAsync("WhoAmI", token);
        }
        using var unknownRoute = await host.Http.GetAsync("/not-an-issuer-route").DefaultTimeout();
        var afterOtherRequests = counter.Count;
        using var discovery = await host.Http.GetAsync(IdentityEndpointPaths.OpenIdConfiguration).DefaultTimeout();

        Assert.True(afterToken >= 1, "the token request went through OpenIddict");
        Assert.Equal(HttpStatusCode.Unauthorized, unknownRoute.StatusCode); // the default deny, not the issuer
        Assert.Equal(afterToken, afterOtherRequests);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        Assert.Equal(afterOtherRequests + 1, counter.Count);
    }

    /// <summary>Counts the requests OpenIddict's server processes.</summary>
    private sealed class IssuerRequestCounter : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessRequestContext>
    {
        private int _count;

        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ProcessRequestContext>()
                .UseSingletonHandler<IssuerRequestCounter>()
                .SetOrder(int.MinValue)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public int Count => Volatile.Read(ref _count);

        public ValueTask HandleAsync(OpenIddictServerEvents.ProcessRequestContext context)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task ServiceWithAnRpcWithoutPolicy_FailsStartUp()
    {
        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => IdentityTestHost.StartAsync(
            map: app => app.MapGrpcService<UndeclaredTestService>()));

        Assert.Contains("SecuredService/PushRoster", exception.Message, StringComparison.Ordinal);
        Assert.Contains("[RpcPolicy]", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnonymousServiceOutsideTheStandardOnes_FailsStartUp()
    {
        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => IdentityTestHost.StartAsync(
            map: app => app.MapGrpcService<SecuredTestService>().AllowAnonymous()));

        Assert.Contains("SecuredService/WhoAmI is anonymous", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnonymousCallToAnUnknownMethod_IsRefusedByTheFallbackPolicy()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var invoker = host.Channel.CreateCallInvoker();
        var method = new Method<OwnedRequest, CallerReply>(MethodType.Unary, "hlmhub.identity.tests.SecuredService", "NoSuchRpc",
            Marshallers.Create(m => m.ToByteArray(), OwnedRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), CallerReply.Parser.ParseFrom));

        var exception = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(method, null, new CallOptions(), new OwnedRequest()).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.Unauthenticated, exception.StatusCode);
        Assert.Empty(host.Probe.Executed);
    }
}
