using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Cli.Connection;

/// <summary>
/// Gets an access token with the client-credentials grant (RFC 6749 §4.4) from the hub's token endpoint: with the
/// client secret (client_secret_basic), or with a client assertion signed by the key file (private_key_jwt).
/// Every failure becomes a <see cref="CliException"/> that says what to fix; the token and the secret never leave
/// this class but in the Authorization header.
/// </summary>
internal sealed class TokenClient(HttpClient http, HubSettings settings, TimeProvider timeProvider)
{
    /// <summary>The scope every administration command needs.</summary>
    public const string AdminScope = "hlmhub.admin";

    /// <summary>How long a client assertion is valid: the hub accepts at most 5 minutes.</summary>
    private static readonly TimeSpan AssertionLifetime = TimeSpan.FromMinutes(1);

    public async Task<string> GetAccessTokenAsync(string scope, CancellationToken cancellationToken)
    {
        var (tokenEndpoint, issuer) = await ResolveEndpointAsync(cancellationToken);
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials"), new("scope", scope) };
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint);
        if (settings.ClientSecret is { } secret)
        {
            // RFC 6749 §2.3.1: both parts are form-encoded before base64.
            var basic = Uri.EscapeDataString(settings.ClientId) + ":" + Uri.EscapeDataString(secret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        }
        else
        {
            form.Add(new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
            form.Add(new("client_assertion", CreateAssertion(tokenEndpoint, issuer)));
        }

        request.Content = new FormUrlEncodedContent(form);
        using var response = await SendAsync(request, tokenEndpoint, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return ReadString(body, "access_token")
                ?? throw new CliException(ExitCodes.AuthenticationOrPermission, $"the token endpoint {tokenEndpoint} answered without an access token");
        }

        throw Refusal(response, body, scope);
    }

    private async Task<(Uri TokenEndpoint, string? Issuer)> ResolveEndpointAsync(CancellationToken cancellationToken)
    {
        if (!settings.DiscoverTokenEndpoint)
        {
            return (settings.AuthUrl, null);
        }

        var discovery = new Uri(settings.AuthUrl, ".well-known/openid-configuration");
        using var request = new HttpRequestMessage(HttpMethod.Get, discovery);
        using var response = await SendAsync(request, discovery, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var tokenEndpoint = response.IsSuccessStatusCode ? ReadString(body, "token_endpoint") : null;
        if (tokenEndpoint is null || !Uri.TryCreate(tokenEndpoint, UriKind.Absolute, out var uri))
        {
            throw new CliException(ExitCodes.HubUnreachable,
                $"{discovery} gave no token endpoint (HTTP {(int)response.StatusCode}): set {HubSettings.AuthUrlVariable} to the hub's Http endpoint or its token endpoint");
        }

        return (uri, ReadString(body, "issuer"));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, Uri target, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            return await http.SendAsync(request, timeout.Token);
        }
        catch (HttpRequestException exception)
        {
            throw new CliException(ExitCodes.HubUnreachable, $"cannot reach {target.GetLeftPart(UriPartial.Authority)} ({Reason(exception)}): is the hub running? Check {HubSettings.AuthUrlVariable}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.HubUnreachable, $"{target.GetLeftPart(UriPartial.Authority)} did not answer within {settings.Timeout.TotalSeconds:0} s");
        }
    }

    private CliException Refusal(HttpResponseMessage response, string body, string scope)
    {
        var error = ReadString(body, "error");
        var description = ReadString(body, "error_description");
        return (response.StatusCode, error) switch
        {
            (HttpStatusCode.TooManyRequests, "invalid_client") => new CliException(ExitCodes.AuthenticationOrPermission,
                $"too many failed authentications: the token endpoint asks to wait {response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 60:0} s"),
            (HttpStatusCode.TooManyRequests, _) => new CliException(ExitCodes.AuthenticationOrPermission,
                $"too many token requests from client '{settings.ClientId}': the token endpoint asks to wait {response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 60:0} s"),
            (_, "invalid_client") => new CliException(ExitCodes.AuthenticationOrPermission,
                $"the hub refused client '{settings.ClientId}' (invalid_client): check {HubSettings.ClientIdVariable} and {(settings.ClientSecret is null ? "the key file" : HubSettings.ClientSecretVariable)}, and that the client is not disabled"),
            (_, "invalid_scope") => new CliException(ExitCodes.AuthenticationOrPermission,
                $"client '{settings.ClientId}' may not request scope '{scope}' (invalid_scope): use an administrator client"),
            // A proxy in front of a hub that is restarting, or the hub not ready: not the credentials, so a script
            // that retries on 4 retries, rather than one that checks the credentials on 3.
            (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout, _) => new CliException(ExitCodes.HubUnreachable,
                $"the token endpoint {response.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Authority)} is unavailable (HTTP {(int)response.StatusCode}): retry in a moment"),
            ({ } status, _) when (int)status >= 500 => new CliException(ExitCodes.Refused,
                $"the token endpoint failed (HTTP {(int)status}): the hub's log says why"),
            _ => new CliException(ExitCodes.AuthenticationOrPermission,
                $"the token endpoint refused the request: HTTP {(int)response.StatusCode} {error ?? ""} {description ?? ""}".TrimEnd()),
        };
    }

    private string CreateAssertion(Uri tokenEndpoint, string? issuer)
    {
        var path = settings.KeyFile!;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot read the key file {path}: {exception.Message}");
        }

        var (key, algorithm) = ReadPrivateKey(text, path);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = settings.ClientId,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + AssertionLifetime,
            SigningCredentials = new SigningCredentials(key, algorithm),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = settings.ClientId,
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
        };
        if (issuer is not null)
        {
            // The draft rfc7523bis form, which OpenIddict itself expects: typed, audience the issuer.
            descriptor.TokenType = "client-authentication+jwt";
            descriptor.Audience = issuer;
        }
        else
        {
            // Without discovery the issuer is unknown: the RFC 7523 form, audience the token endpoint.
            descriptor.Audience = tokenEndpoint.AbsoluteUri;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static (SecurityKey Key, string Algorithm) ReadPrivateKey(string text, string path)
    {
        try
        {
            if (text.TrimStart().StartsWith('{'))
            {
                var jwk = new JsonWebKey(text);
                if (!jwk.HasPrivateKey)
                {
                    throw new CliException(ExitCodes.Usage, $"the key file {path} holds a public key: private_key_jwt signs with the private key");
                }

                return (jwk, jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256);
            }

            var ecdsa = ECDsa.Create();
            try
            {
                ecdsa.ImportFromPem(text);
                return (new ECDsaSecurityKey(ecdsa), SecurityAlgorithms.EcdsaSha256);
            }
            catch (Exception exception) when (exception is ArgumentException or CryptographicException)
            {
                // Not an EC key (ImportFromPem takes the first key it knows): try RSA.
                ecdsa.Dispose();
            }

            var rsa = RSA.Create();
            rsa.ImportFromPem(text);
            return (new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256);
        }
        catch (Exception exception) when (exception is ArgumentException or CryptographicException or JsonException)
        {
            throw new CliException(ExitCodes.Usage, $"the key file {path} is not a PEM or JWK EC P-256 or RSA private key");
        }
    }

    private static string? ReadString(string json, string property)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(property, out var value)
                && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Reason(HttpRequestException exception) =>
        exception.HttpRequestError switch
        {
            HttpRequestError.ConnectionError => "connection refused",
            HttpRequestError.NameResolutionError => "unknown host",
            HttpRequestError.SecureConnectionError => "TLS failed",
            _ => exception.Message,
        };
}
