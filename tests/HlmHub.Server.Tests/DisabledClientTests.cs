using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// Disabling a client stops its unexpired tokens, not only its next token request, and rotating its secret stops the
/// tokens got before: on the instance that did it at once, on another instance of the same database within
/// <c>Auth:EmbeddedIssuer:DisabledClientsRefreshInterval</c> (one second here). An open redemption stream of such a
/// token ends with UNAUTHENTICATED, and nothing it sends after is booked.
/// Two hubs in this process on one database, as behind a load balancer.
/// </summary>
public sealed class DisabledClientTests
{
    private TestDatabase _database = null!;
    private HubHost _first = null!;
    private HubHost _second = null!;

    private async Task StartAsync(TestProvider provider)
    {
        _database = await TestDatabase.CreateAsync(provider);
        // One issuer identifier for both: a token from either is valid on both.
        var port = LoopbackPorts.Free();
        var issuer = $"--Auth:Issuer=http://127.0.0.1:{port}/";
        // The first instance, where clients are disabled, never re-reads them during a test: what it refuses, it
        // refuses from its own disabling, at once.
        _first = await HubHost.StartAsync(_database, $"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}", issuer,
            "--Auth:EmbeddedIssuer:DisabledClientsRefreshInterval=1.00:00:00");
        _second = await HubHost.StartAsync(_database, issuer, "--Auth:EmbeddedIssuer:DisabledClientsRefreshInterval=00:00:01");
    }

    private async Task StopAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ADisabledPartnersOpenStreamEnds_AndItsTokenIsRefused_NothingSentAfterIsBooked(bool postgres, bool onAnotherInstance)
    {
        await StartAsync(postgres ? TestProvider.Postgres : TestProvider.Sqlite);
        try
        {
            await DisableWhileStreamingAsync(onAnotherInstance);
        }
        finally
        {
            await StopAsync();
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ARotatedSecretsEarlierTokenIsRefused_AndItsOpenStreamEnds_WhileATokenOfTheNewSecretIsServed(bool postgres, bool onAnotherInstance)
    {
        await StartAsync(postgres ? TestProvider.Postgres : TestProvider.Sqlite);
        try
        {
            await RotateWhileStreamingAsync(onAnotherInstance);
        }
        finally
        {
            await StopAsync();
        }
    }

    private async Task RotateWhileStreamingAsync(bool onAnotherInstance)
    {
        var admin = await _first.HubAdminAsync();
        var world = await RedemptionWorld.CreateAsync(_first, admin);
        var member = await world.AddMemberAsync();
        var partner = await world.RegisterClientAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        var oldToken = await _first.GetTokenAsync(partner.Client.ClientId, partner.ClientSecret);
        var served = onAnotherInstance ? _second : _first;
        using var call = world.Client(served).StreamRedemptions(world.Options(oldToken));
        await call.RequestStream.WriteAsync(world.Event(member, 1_000, 100));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var before = call.ResponseStream.Current;

        var rotated = await admin.CallAsync((client, options) => client.RotateClientSecretAsync(new RotateClientSecretRequest { ClientId = partner.Client.ClientId }, options));
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var unary = await Assert.ThrowsAsync<RpcException>(() =>
            world.Client(served).RedeemAsync(world.Event(member, 1_000, 100), world.Options(oldToken)).ResponseAsync.DefaultTimeout());
        // From the serving instance's own issuer: it stamps the token with the rotation it reads from the database.
        var newToken = await served.GetTokenAsync(partner.Client.ClientId, rotated.ClientSecret);
        var afterRotation = await world.Client(served).RedeemAsync(world.Event(member, 1_000, 100), world.Options(newToken)).ResponseAsync.DefaultTimeout();

        Assert.Equal(RedemptionOutcome.Accepted, before.Outcome);
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("secret was rotated during this call", ended.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, unary.StatusCode);
        Assert.Contains("issued before its client's secret was rotated", unary.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(RedemptionOutcome.Accepted, afterRotation.Outcome);
        Assert.Equal(2, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    private async Task DisableWhileStreamingAsync(bool onAnotherInstance)
    {
        var admin = await _first.HubAdminAsync();
        var world = await RedemptionWorld.CreateAsync(_first, admin);
        var member = await world.AddMemberAsync();
        var partner = await world.RegisterClientAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        var token = await _first.GetTokenAsync(partner.Client.ClientId, partner.ClientSecret);
        var served = onAnotherInstance ? _second : _first;
        using var call = world.Client(served).StreamRedemptions(world.Options(token));
        await call.RequestStream.WriteAsync(world.Event(member, 1_000, 100));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var before = call.ResponseStream.Current;

        // Disabled through the first instance's Admin API.
        await admin.CallAsync((client, options) => client.DisableClientAsync(new DisableClientRequest { ClientId = partner.Client.ClientId }, options));
        // The idle stream ends without waiting for the partner's next event (the second instance: at its next refresh).
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var unary = await Assert.ThrowsAsync<RpcException>(() =>
            world.Client(served).RedeemAsync(world.Event(member, 1_000, 100), world.Options(token)).ResponseAsync.DefaultTimeout());

        Assert.Equal(RedemptionOutcome.Accepted, before.Outcome);
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("client was disabled during this call", ended.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, unary.StatusCode);
        Assert.Contains("client is disabled", unary.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }
}
