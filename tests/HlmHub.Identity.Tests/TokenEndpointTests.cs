using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Tests;

/// <summary>The embedded authorization server (OpenIddict) over HTTP/1.1: each client authentication method, and every refusal.</summary>
public sealed class TokenEndpointTests
{
    private static readonly KeyValuePair<string, string> ClientCredentials = new("grant_type", "client_credentials");

    private static ClientRegistration Partner(string partnerId, params string[] scopes) =>
        new(ClientKind.Partner, "Assureur " + partnerId, scopes.Length == 0 ? ["hlmhub.offers.read", "hlmhub.test"] : scopes, PartnerId: partnerId);

    private static ClientRegistration KeyClient(ECDsa key) =>
        new(ClientKind.Landlord, "Plaine Commune Habitat", ["hlmhub.roster"], LandlordId: "pch", PublicJwk: ClientAssertions.PublicJwk(key));

    [Fact]
    public async Task ClientSecretBasic_IssuesRfc9068AccessTokenWithBinding()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var result = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("no-store", result.Headers.CacheControl?.ToString());
        Assert.Equal("Bearer", result.Body.GetProperty("token_type").GetString());
        // OpenIddict counts expires_in from the moment it writes the response: 900 s less the time it took.
        Assert.InRange(result.Body.GetProperty("expires_in").GetInt32(), 895, 900);
        var token = new JsonWebToken(result.AccessToken);
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal("ES256", token.Alg);
        Assert.False(string.IsNullOrEmpty(token.Kid));
        Assert.Equal(host.Issuer, token.Issuer);
        Assert.Equal(["hlmhub"], token.Audiences);
        Assert.Equal(client.ClientId, token.Subject);
        Assert.Equal(client.ClientId, token.GetPayloadValue<string>("client_id"));
        Assert.False(string.IsNullOrEmpty(token.Id));
        Assert.Equal("partner", token.GetPayloadValue<string>("hlmhub_kind"));
        Assert.Equal("maaf", token.GetPayloadValue<string>("hlmhub_partner"));
        Assert.False(token.TryGetPayloadValue<string>("hlmhub_landlord", out _));
        Assert.Equal("hlmhub.offers.read hlmhub.test", token.GetPayloadValue<string>("scope"));
        Assert.Equal(TimeSpan.FromMinutes(15), token.ValidTo - token.IssuedAt);
        Assert.True((await host.ValidateAsync(result.AccessToken)).IsValid);
        Assert.DoesNotContain(host.Logs, r => r.Message.Contains(result.AccessToken, StringComparison.Ordinal)
            || r.Message.Contains(client.ClientSecret!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientSecretPost_WithScope_IssuesTokenValidAgainstTheJwks()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var result = await host.RequestTokenAsync(
            [ClientCredentials, new("client_id", client.ClientId), new("client_secret", client.ClientSecret!), new("scope", "hlmhub.test")]);

        Assert.Equal(HttpStatusCode.OK, result.Status);
        var validation = await host.ValidateAsync(result.AccessToken);
        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.Equal("hlmhub.test", new JsonWebToken(result.AccessToken).GetPayloadValue<string>("scope"));
    }

    [Fact]
    public async Task PrivateKeyJwt_DraftForm_IsAccepted()
    {
        await using var host = await IssuerTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(KeyClient(key));
        Assert.Null(client.ClientSecret);

        var result = await host.RequestTokenAsync(ClientAssertions.Form(ClientAssertions.Draft(key, client.ClientId, host.Issuer)));

        Assert.Equal(HttpStatusCode.OK, result.Status);
        var token = new JsonWebToken(result.AccessToken);
        Assert.Equal("landlord", token.GetPayloadValue<string>("hlmhub_kind"));
        Assert.Equal("pch", token.GetPayloadValue<string>("hlmhub_landlord"));
        Assert.True((await host.ValidateAsync(result.AccessToken)).IsValid);
    }

    [Fact]
    public async Task PrivateKeyJwt_Rfc7523Form_TypJwtOrNoneAndAudienceTokenEndpoint_IsAccepted()
    {
        await using var host = await IssuerTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(KeyClient(key));

        var typJwt = await host.RequestTokenAsync(ClientAssertions.Form(ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint)));
        var typJwtAudienceIssuer = await host.RequestTokenAsync(ClientAssertions.Form(ClientAssertions.Create(key, client.ClientId, host.Issuer, "JWT")));
        var noTyp = await host.RequestTokenAsync(ClientAssertions.Form(WithoutTyp(ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint), key)));

        Assert.Equal(HttpStatusCode.OK, typJwt.Status);
        Assert.Equal(HttpStatusCode.OK, typJwtAudienceIssuer.Status);
        Assert.Equal(HttpStatusCode.OK, noTyp.Status);
        Assert.Equal("pch", new JsonWebToken(typJwt.AccessToken).GetPayloadValue<string>("hlmhub_landlord"));
    }

    [Fact]
    public async Task ReplayedClientAssertion_OrReusedJti_IsInvalidClient()
    {
        await using var host = await IssuerTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(KeyClient(key));
        var assertion = ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint, jti: "once");

        var first = await host.RequestTokenAsync(ClientAssertions.Form(assertion));
        var replay = await host.RequestTokenAsync(ClientAssertions.Form(assertion));
        var reusedJti = await host.RequestTokenAsync(ClientAssertions.Form(ClientAssertions.Draft(key, client.ClientId, host.Issuer, jti: "once")));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (replay.Status, replay.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (reusedJti.Status, reusedJti.Error));
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.ClientAuthenticationFailed && r.Message.Contains("replayed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientAssertionExpiredBeyondTheClockSkew_IsInvalidClient_AndSoCannotBeReplayedOnceItsJtiIsForgotten()
    {
        await using var host = await IssuerTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(KeyClient(key));
        // Expired 90 s ago: past Auth:ClockSkew (30 s), so past the time the replay cache keeps its jti.
        var expired = ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint, jti: "expired",
            issuedAt: TimeProvider.System.GetUtcNow().AddSeconds(-150));

        var first = await host.RequestTokenAsync(ClientAssertions.Form(expired));
        // Any other assertion prunes the replay cache of expired rows.
        var fresh = await host.RequestTokenAsync(ClientAssertions.Form(ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint)));
        var again = await host.RequestTokenAsync(ClientAssertions.Form(expired));

        Assert.Equal(HttpStatusCode.OK, fresh.Status);
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (first.Status, first.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (again.Status, again.Error));
    }

    [Fact]
    public async Task ClientAssertionWithWrongAudienceOrLongLifetimeOrIssuedAheadOrOtherKeyOrOtherType_IsInvalidClient()
    {
        await using var host = await IssuerTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(KeyClient(key));

        foreach (var assertion in new[]
        {
            ClientAssertions.Rfc7523(key, client.ClientId, "https://elsewhere.example/connect/token"),
            ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint, lifetime: TimeSpan.FromHours(1)),
            // Minted ahead (a year, or beyond the clock skew): short-lived by exp - iat, yet usable for as long as it is ahead.
            ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint, issuedAt: TimeProvider.System.GetUtcNow().AddDays(365)),
            ClientAssertions.Rfc7523(key, client.ClientId, host.TokenEndpoint, issuedAt: TimeProvider.System.GetUtcNow().AddMinutes(10)),
            ClientAssertions.Rfc7523(otherKey, client.ClientId, host.TokenEndpoint),
            // An access token's type is not a client assertion's, even signed with the client's key.
            ClientAssertions.Create(key, client.ClientId, host.TokenEndpoint, "at+jwt"),
        })
        {
            var result = await host.RequestTokenAsync(ClientAssertions.Form(assertion));
            Assert.True(result.Status == HttpStatusCode.Unauthorized, $"{new JsonWebToken(assertion).Typ} {result.Status} {result.Body}");
            Assert.Equal("invalid_client", result.Error);
        }
    }

    [Fact]
    public async Task WrongSecretOrUnknownClient_IsInvalidClientWith401_AndTheSecretIsNotLogged()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var wrong = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "not-the-secret"));
        var unknown = await host.RequestTokenAsync([ClientCredentials], ("nobody", "whatever"));
        var none = await host.RequestTokenAsync([ClientCredentials]);

        foreach (var result in new[] { wrong, unknown })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
            Assert.Equal("invalid_client", result.Error);
            Assert.Equal("no-store", result.Headers.CacheControl?.ToString());
        }
        Assert.True(none.Status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, none.Status.ToString());
        Assert.False(none.Body.TryGetProperty("access_token", out _));
        // The wrong secret's failure was logged (naming the client): the log was captured, so its not holding the
        // secrets below is a finding, not an empty log.
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.ClientAuthenticationFailed
            && r.Message.Contains($"for client {client.ClientId} (sha256:", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs, r => r.Message.Contains("not-the-secret", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs, r => r.Message.Contains(client.ClientSecret!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnknownClientId_GetsTheAnswerOfAWrongSecret_SoClientIdsCannotBeProbed()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var wrongSecret = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "not-the-secret"));
        var unknownBasic = await host.RequestTokenAsync([ClientCredentials], ("partner-0123456789abcdef", "not-the-secret"));
        var unknownPost = await host.RequestTokenAsync(
            [ClientCredentials, new("client_id", "partner-0123456789abcdef"), new("client_secret", "not-the-secret")]);

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrongSecret.Status, wrongSecret.Error));
        Assert.Equal((wrongSecret.Status, wrongSecret.Body.ToString()), (unknownBasic.Status, unknownBasic.Body.ToString()));
        Assert.Equal((wrongSecret.Status, wrongSecret.Body.ToString()), (unknownPost.Status, unknownPost.Body.ToString()));
        // The log still tells the operator which it was.
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.ClientAuthenticationFailed && r.Message.Contains("(unregistered, sha256:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AClientIdThatNoClientCouldHave_IsNotWrittenToTheLog_SoItCannotForgeALine()
    {
        await using var host = await IssuerTestHost.StartAsync();

        var forged = await host.RequestTokenAsync(
            [ClientCredentials, new("client_id", "nobody\nwarn: FORGED by an anonymous caller"), new("client_secret", "whatever")]);

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (forged.Status, forged.Error));
        var failure = Assert.Single(host.Logs, r => r.EventId.Id == IdentityEventIds.ClientAuthenticationFailed);
        Assert.Contains("for client (unregistered, sha256:", failure.Message, StringComparison.Ordinal);
        // The hub's own entries (OpenIddict's, at Information, echo the request: the hub runs them at Warning).
        Assert.DoesNotContain(host.Logs, r => r.Category.StartsWith("HlmHub", StringComparison.Ordinal) && r.Message.Contains("FORGED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientIdAndSecretSwapped_TheSecretIsNotWrittenToTheLog_ButAWrongSecretNamesTheRegisteredClient()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var swapped = await host.RequestTokenAsync([ClientCredentials, new("client_id", client.ClientSecret!), new("client_secret", client.ClientId)]);
        var wrongSecret = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "not-the-secret"));

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (swapped.Status, wrongSecret.Status));
        var failures = host.Logs.Where(r => r.EventId.Id == IdentityEventIds.ClientAuthenticationFailed).Select(r => r.Message).ToList();
        Assert.Equal(2, failures.Count);
        // What the hub writes: its own entries, and others' at Warning and above (OpenIddict's Information entries echo
        // the request; the hub's appsettings.json runs OpenIddict at Warning).
        Assert.DoesNotContain(host.Logs, r => (r.Category.StartsWith("HlmHub", StringComparison.Ordinal) || r.Level >= LogLevel.Warning)
            && r.Message.Contains(client.ClientSecret!, StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("for client (unregistered, sha256:", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains($"for client {client.ClientId} (sha256:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScopeNotAllowed_IsInvalidScopeNamingIt_NotAReducedToken()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var result = await host.RequestTokenAsync([ClientCredentials, new("scope", "hlmhub.test hlmhub.admin")], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_scope", result.Error);
        Assert.Contains("hlmhub.admin", result.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.False(result.Body.TryGetProperty("access_token", out _));
    }

    [Fact]
    public async Task OtherGrantOrMissingGrantOrRepeatedParameterOrTwoMethods_AreRfc6749Errors()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));
        var basic = (client.ClientId, client.ClientSecret!);

        var password = await host.RequestTokenAsync([new("grant_type", "password"), new("username", "u"), new("password", "p")], basic);
        var missing = await host.RequestTokenAsync([new("scope", "hlmhub.test")], basic);
        var repeated = await host.RequestTokenAsync([ClientCredentials, new("scope", "hlmhub.test"), new("scope", "hlmhub.test")], basic);
        var twoMethods = await host.RequestTokenAsync([ClientCredentials, new("client_id", client.ClientId), new("client_secret", client.ClientSecret!)], basic);

        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), (password.Status, password.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (missing.Status, missing.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (repeated.Status, repeated.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (twoMethods.Status, twoMethods.Error));
    }

    [Fact]
    public async Task OversizedRequest_IsRefusedBeforeItIsRead()
    {
        await using var host = await IssuerTestHost.StartAsync();

        var result = await host.RequestTokenAsync([ClientCredentials, new("client_id", "x"), new("padding", new string('a', 20_000))]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, result.Status);
        Assert.Equal("invalid_request", result.Error);
    }

    [Fact]
    public async Task OversizedChunkedRequest_Is413InvalidRequest_AndNoErrorLog()
    {
        // Disposing the host fails the test on an error log: Kestrel logged each such request as an unhandled exception.
        await using var host = await IssuerTestHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token)
        {
            // No Content-Length: Kestrel cuts the body at MaxTokenRequestBytes while OpenIddict reads it.
            Content = new StreamContent(new NoLengthStream(System.Text.Encoding.ASCII.GetBytes("grant_type=client_credentials&padding=" + new string('a', 20_000)))),
        };
        request.Content.Headers.ContentType = new("application/x-www-form-urlencoded");
        request.Headers.TransferEncodingChunked = true;

        using var response = await host.Http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("invalid_request", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
    }

    /// <summary>A body whose length HttpClient cannot know, so it is sent chunked.</summary>
    private sealed class NoLengthStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task DisabledClient_GetsNoToken()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));
        var before = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));
        // Away from the system clock, so the instant recorded shows it is the hub's clock that dates the disabling.
        host.Clock.Advance(TimeSpan.FromHours(1));
        var disabling = host.Clock.GetUtcNow();

        await host.Registry.DisableAsync(client.ClientId, CancellationToken.None).DefaultTimeout();
        var disabled = host.Clock.GetUtcNow();
        var result = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
        // Recorded to the millisecond.
        var disabledAt = (await host.Registry.FindAsync(client.ClientId, CancellationToken.None).DefaultTimeout())!.DisabledAt;
        Assert.InRange(disabledAt ?? DateTimeOffset.MinValue, disabling.AddMilliseconds(-1), disabled);
    }

    [Fact]
    public async Task SecretBruteForce_BlocksThatAddressForThatClient_EvenWithTheRightSecret_UntilTheWindowEnds()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerClient"] = "5",
        });
        var client = await host.RegisterAsync(Partner("maaf"));

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 8; attempt++)
        {
            statuses.Add((await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "guess-" + attempt))).Status);
        }
        var rightSecret = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), statuses.Take(5));
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3), statuses.Skip(5));
        Assert.Equal(HttpStatusCode.TooManyRequests, rightSecret.Status);
        Assert.Equal("invalid_client", rightSecret.Error);
        // When the 5-minute window (the default) that began with the first failure ends, in whole seconds rounded up.
        Assert.InRange(rightSecret.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));

        host.Clock.Advance(TimeSpan.FromMinutes(6));
        var afterWindow = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));
        Assert.Equal(HttpStatusCode.OK, afterWindow.Status);
    }

    [Fact]
    public async Task StrangerKnowingTheClientId_CannotLockTheClientOut()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerClient"] = "3",
        });
        var client = await host.RegisterAsync(Partner("maaf"));

        // The stranger calls from 127.0.0.2, the client from 127.0.0.1: two addresses on this machine's loopback.
        using var stranger = HttpClientFrom(IPAddress.Parse("127.0.0.2"), host.Address);
        var strangerStatuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 6; attempt++)
        {
            using var guess = new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token)
            {
                Content = new FormUrlEncodedContent([ClientCredentials, new("client_id", client.ClientId), new("client_secret", "guess-" + attempt)]),
            };
            using var response = await stranger.SendAsync(guess).DefaultTimeout();
            strangerStatuses.Add(response.StatusCode);
        }
        var legitimate = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.TooManyRequests, strangerStatuses[^1]);
        Assert.Equal(HttpStatusCode.OK, legitimate.Status);
    }

    [Fact]
    public async Task ManyClientsFromOneAddress_AreRateLimitedPerAddress()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerAddress"] = "4",
        });

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 6; attempt++)
        {
            statuses.Add((await host.RequestTokenAsync([ClientCredentials], ("client-" + attempt, "guess"))).Status);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 4), statuses.Take(4));
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2), statuses.Skip(4));
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.TokenRequestsRateLimited);
    }

    [Fact]
    public async Task ABlockedCallerInALoop_IsLoggedOncePerBlock_NotOncePerRefusal_AndAgainInItsNextBlock()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerClient"] = "2",
        });
        var client = await host.RegisterAsync(Partner("maaf"));

        async Task<List<HttpStatusCode>> GuessAsync(int times)
        {
            var statuses = new List<HttpStatusCode>();
            for (var attempt = 0; attempt < times; attempt++)
            {
                statuses.Add((await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "guess-" + attempt))).Status);
            }
            return statuses;
        }
        int Logged() => host.Logs.Count(record => record.EventId.Id == IdentityEventIds.TokenRequestsRateLimited);

        var first = await GuessAsync(22);
        var loggedInFirstBlock = Logged();
        // The window ends: the guesses are counted afresh, and the next block is logged once again.
        host.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var second = await GuessAsync(12);

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 2), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 20)], first);
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 2), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 10)], second);
        Assert.Equal((1, 2), (loggedInFirstBlock, Logged()));
    }

    [Fact]
    public async Task AClientAskingForTokensInALoop_Gets429AfterItsAllowance_OtherClientsAndAddressesStillGetTheirs()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute"] = "3",
        });
        var looping = await host.RegisterAsync(Partner("maaf"));
        var other = await host.RegisterAsync(Partner("macif"));

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            statuses.Add((await host.RequestTokenAsync([ClientCredentials], (looping.ClientId, looping.ClientSecret!))).Status);
        }
        var refused = await host.RequestTokenAsync([ClientCredentials], (looping.ClientId, looping.ClientSecret!));
        var otherClient = await host.RequestTokenAsync([ClientCredentials], (other.ClientId, other.ClientSecret!));
        // The same client from another address (127.0.0.2) has an allowance of its own.
        using var elsewhere = HttpClientFrom(IPAddress.Parse("127.0.0.2"), host.Address);
        using var fromElsewhere = await elsewhere.SendAsync(new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token)
        {
            Content = new FormUrlEncodedContent([ClientCredentials, new("client_id", looping.ClientId), new("client_secret", looping.ClientSecret!)]),
        }).DefaultTimeout();

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 3), statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("invalid_request", refused.Error);
        Assert.Contains("Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute", refused.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, otherClient.Status);
        Assert.Equal(HttpStatusCode.OK, fromElsewhere.StatusCode);
    }

    [Fact]
    public async Task MadeUpClientIds_ShareOneAllowancePerAddress_ARegisteredClientThereKeepsItsOwn()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute"] = "3",
        });
        var client = await host.RegisterAsync(Partner("maaf"));

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            statuses.Add((await host.RequestTokenAsync([ClientCredentials], ("made-up-" + Guid.NewGuid().ToString("N"), "guess"))).Status);
        }
        var registered = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        // Three made-up ids fail authentication; the fourth, another id again, is over the address's shared allowance.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, registered.Status);
    }

    [Fact]
    public async Task DiscoveryDocuments_AtBothPaths_DescribeTheIssuerAndItsJwks()
    {
        await using var host = await IssuerTestHost.StartAsync();

        foreach (var path in new[] { IdentityEndpointPaths.OpenIdConfiguration, IdentityEndpointPaths.OAuthAuthorizationServer })
        {
            using var document = JsonDocument.Parse(await host.Http.GetStringAsync(path).DefaultTimeout());
            var root = document.RootElement;
            Assert.Equal(host.Issuer, root.GetProperty("issuer").GetString());
            Assert.Equal(host.TokenEndpoint, root.GetProperty("token_endpoint").GetString());
            Assert.Equal(["client_credentials"], root.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
            var methods = root.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains("client_secret_basic", methods);
            Assert.Contains("client_secret_post", methods);
            Assert.Contains("private_key_jwt", methods);
            var jwksUri = new Uri(root.GetProperty("jwks_uri").GetString()!);
            using var jwks = JsonDocument.Parse(await host.Http.GetStringAsync(jwksUri).DefaultTimeout());
            var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
            Assert.Equal("EC", key.GetProperty("kty").GetString());
            Assert.Equal("ES256", key.GetProperty("alg").GetString());
            Assert.Equal("P-256", key.GetProperty("crv").GetString());
            Assert.False(key.TryGetProperty("d", out _));
        }
    }

    // An assertion re-signed with its typ header removed.
    private static string WithoutTyp(string assertion, ECDsa key)
    {
        var token = new JsonWebToken(assertion);
        var header = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"ES256\"}");
        var signingInput = header + "." + assertion.Split('.')[1];
        var signature = key.SignData(System.Text.Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        Assert.Equal("JWT", token.Typ);
        return signingInput + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(signature);
    }

    // An HttpClient whose connections leave from the given local address.
    private static HttpClient HttpClientFrom(IPAddress localAddress, Uri baseAddress) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(localAddress, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = baseAddress };
}
