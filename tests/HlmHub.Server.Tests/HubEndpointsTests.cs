using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// The two named Kestrel endpoints of the real hub: an ordinary HTTP/1.1 client gets discovery, tokens and
/// /healthz from the Http endpoint, whose URL is the issuer's; gRPC is served on the Grpc endpoint only, and the
/// HTTP routes are not served there.
/// </summary>
public sealed class HubEndpointsTests(SqliteHubFixture fixture) : IClassFixture<SqliteHubFixture>
{
    private HubHost Hub => fixture.Hub;

    [Fact]
    public async Task HttpEndpoint_ServesDiscoveryAndHealthOverHttp11_WithItsOwnUrlAsIssuer()
    {
        using var http = new HttpClient { BaseAddress = Hub.HttpAddress };

        using var discovery = await http.GetAsync("/.well-known/openid-configuration").DefaultTimeout();
        using var health = await http.GetAsync("/healthz").DefaultTimeout();

        Assert.Equal((HttpStatusCode.OK, new Version(1, 1)), (discovery.StatusCode, discovery.Version));
        using var document = JsonDocument.Parse(await discovery.Content.ReadAsStringAsync().DefaultTimeout());
        // OpenIddict writes the issuer as an absolute URI: a bare host ends with '/'.
        var issuer = Hub.HttpAddress.GetLeftPart(UriPartial.Authority) + "/";
        Assert.Equal(issuer, document.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(issuer + "connect/token", document.RootElement.GetProperty("token_endpoint").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync().DefaultTimeout());
    }

    [Fact]
    public async Task GrpcEndpoint_ServesHealth_ButNotTheHttpRoutes()
    {
        var health = await new Health.HealthClient(Hub.Channel).CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout();
        using var h2c = new HttpClient
        {
            BaseAddress = Hub.Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var discovery = await h2c.GetAsync("/.well-known/openid-configuration").DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(HttpStatusCode.NotFound, discovery.StatusCode);
    }

    [Fact]
    public async Task AnUnknownPath_IsNotFound_OnBothEndpoints_WhateverTheCaller()
    {
        using var http = new HttpClient { BaseAddress = Hub.HttpAddress };
        using var h2c = new HttpClient
        {
            BaseAddress = Hub.Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var withBadToken = new HttpRequestMessage(HttpMethod.Post, "/v1/no-such-thing");
        withBadToken.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");

        using var anonymous = await http.GetAsync("/no-such-path").DefaultTimeout();
        using var refusedToken = await http.SendAsync(withBadToken).DefaultTimeout();
        using var onGrpcPort = await h2c.GetAsync("/no-such-path").DefaultTimeout();

        // Not 401: a path that serves nothing has nothing to refuse (and is not logged as a refused call).
        Assert.Equal(
            (HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound),
            (anonymous.StatusCode, refusedToken.StatusCode, onGrpcPort.StatusCode));
    }

    [Fact]
    public async Task HttpEndpoint_DoesNotServeGrpc()
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(Hub.HttpAddress);

        var exception = await Assert.ThrowsAsync<RpcException>(() =>
            new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout());

        // What a misconfigured client sees: Kestrel's HTTP/1.1-only endpoint answers the HTTP/2 preface with GOAWAY
        // HTTP_1_1_REQUIRED, which Grpc.Net.Client reports as INTERNAL naming that code (a hub not listening there would
        // be UNAVAILABLE instead).
        Assert.Equal(StatusCode.Internal, exception.StatusCode);
        Assert.Contains("HTTP_1_1_REQUIRED", exception.Status.Detail, StringComparison.Ordinal);
    }
}
