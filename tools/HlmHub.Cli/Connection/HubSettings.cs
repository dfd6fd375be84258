using System.CommandLine;

namespace HlmHub.Cli.Connection;

/// <summary>
/// Where the hub is and who the CLI is to it: each setting from its flag, else its environment variable, else its
/// default. The secret and the key file are read, never printed.
/// </summary>
internal sealed record HubSettings(Uri HubUrl, Uri AuthUrl, string ClientId, string? ClientSecret, string? KeyFile, TimeSpan Timeout)
{
    public const string UrlVariable = "HLMHUB_URL";
    public const string AuthUrlVariable = "HLMHUB_AUTH_URL";
    public const string ClientIdVariable = "HLMHUB_CLIENT_ID";
    public const string ClientSecretVariable = "HLMHUB_CLIENT_SECRET";
    public const string KeyFileVariable = "HLMHUB_KEY_FILE";
    public const string TimeoutVariable = "HLMHUB_TIMEOUT";

    /// <summary>The hub's gRPC endpoint on its embedded defaults.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>The hub's Http endpoint on its embedded defaults, where discovery gives the token endpoint.</summary>
    public const string DefaultAuthUrl = "http://127.0.0.1:5081";

    /// <summary>How long one call (or the token request) may take; a reconciliation stream is not bounded by it.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Reads the settings from the parsed flags and the environment.</summary>
    public static HubSettings Resolve(ParseResult parse, GlobalOptions options)
    {
        var url = Setting(parse.GetValue(options.Url), UrlVariable) ?? DefaultUrl;
        var authUrl = Setting(parse.GetValue(options.AuthUrl), AuthUrlVariable) ?? DefaultAuthUrl;
        var clientId = Setting(parse.GetValue(options.ClientId), ClientIdVariable)
            ?? throw new CliException(ExitCodes.Usage, $"no client id: pass --client-id or set {ClientIdVariable}");
        var secret = Setting(parse.GetValue(options.ClientSecret), ClientSecretVariable);
        var keyFile = Setting(parse.GetValue(options.KeyFile), KeyFileVariable);
        if (secret is null && keyFile is null)
        {
            throw new CliException(ExitCodes.Usage, $"no credential for client '{clientId}': set {ClientSecretVariable} or pass --key-file (or set {KeyFileVariable})");
        }

        if (secret is not null && keyFile is not null)
        {
            throw new CliException(ExitCodes.Usage, "both a client secret and a key file are set: use one");
        }

        var timeoutText = Setting(parse.GetValue(options.Timeout), TimeoutVariable);
        var timeout = DefaultTimeout;
        if (timeoutText is not null)
        {
            if (!int.TryParse(timeoutText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 3600)
            {
                throw new CliException(ExitCodes.Usage, $"--timeout ({TimeoutVariable}) is a number of seconds from 1 to 3600, not '{timeoutText}'");
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        return new HubSettings(ParseUrl(url, "--url", UrlVariable), ParseUrl(authUrl, "--auth-url", AuthUrlVariable), clientId, secret, keyFile, timeout);
    }

    /// <summary>
    /// True when <see cref="AuthUrl"/> names the hub's Http endpoint (no path) rather than the token endpoint itself:
    /// the token endpoint then comes from its discovery document.
    /// </summary>
    public bool DiscoverTokenEndpoint => AuthUrl.AbsolutePath is "" or "/";

    private static string? Setting(string? flag, string variable)
    {
        if (!string.IsNullOrWhiteSpace(flag))
        {
            return flag.Trim();
        }

        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static Uri ParseUrl(string value, string flag, string variable) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new CliException(ExitCodes.Usage, $"{flag} ({variable}) must be an http or https URL, not '{value}'");
}

/// <summary>The connection flags, accepted by every command.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"The hub's gRPC endpoint [env: {HubSettings.UrlVariable}; default: {HubSettings.DefaultUrl}]",
        Recursive = true,
    };

    public Option<string?> AuthUrl { get; } = new("--auth-url")
    {
        Description = $"The token endpoint, or the hub's Http endpoint to discover it from [env: {HubSettings.AuthUrlVariable}; default: {HubSettings.DefaultAuthUrl}]",
        Recursive = true,
    };

    public Option<string?> ClientId { get; } = new("--client-id")
    {
        Description = $"The OAuth client id [env: {HubSettings.ClientIdVariable}]",
        Recursive = true,
    };

    public Option<string?> ClientSecret { get; } = new("--client-secret")
    {
        Description = $"The client secret; prefer the environment, a flag shows in the process list [env: {HubSettings.ClientSecretVariable}]",
        Recursive = true,
    };

    public Option<string?> KeyFile { get; } = new("--key-file")
    {
        Description = $"A PEM or JWK private key for private_key_jwt, instead of a secret [env: {HubSettings.KeyFileVariable}]",
        Recursive = true,
    };

    public Option<string?> Timeout { get; } = new("--timeout")
    {
        Description = $"Seconds one call may take [env: {HubSettings.TimeoutVariable}; default: 30]",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Url, AuthUrl, ClientId, ClientSecret, KeyFile, Timeout];
}
