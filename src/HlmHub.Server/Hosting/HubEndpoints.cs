using HlmHub.Identity;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HlmHub.Server.Hosting;

/// <summary>The two kinds of endpoints the hub serves: gRPC (HTTP/2) and plain HTTP (HTTP/1.1).</summary>
internal enum HubEndpointKind
{
    Grpc,
    Http,
}

/// <summary>Endpoint metadata: this route is served on the named Kestrel endpoint only.</summary>
internal sealed record ServedOnMetadata(HubEndpointKind Kind);

/// <summary>
/// The named Kestrel endpoints <c>Kestrel:Endpoints:Grpc</c> and <c>Kestrel:Endpoints:Http</c>, captured while
/// Kestrel loads its configuration: their bound ports route each request to its own services, and the Http
/// endpoint's URL is the embedded issuer's, which answers on that endpoint alone.
/// </summary>
internal sealed class HubEndpoints : IHttpEndpointAddress
{
    public const string GrpcName = "Grpc";
    public const string HttpName = "Http";

    private ListenOptions? _grpc;
    private ListenOptions? _http;
    private string? _grpcUrl;
    private string? _httpUrl;
    private bool _grpcIsHttps;
    private bool _httpIsHttps;

    /// <summary>
    /// True when <c>Endpoints:Grpc:Url</c> and <c>Endpoints:Http:Url</c> name the same https URL with a fixed port: one
    /// TLS port for both (ALPN). Not for cleartext, where one port cannot serve both protocols, nor for port 0, where
    /// equal URLs mean two ports each chosen by the system (the tests' layout).
    /// </summary>
    public static bool IsSinglePort(IConfiguration kestrel)
    {
        var grpc = kestrel[$"Endpoints:{GrpcName}:Url"]?.Trim().TrimEnd('/');
        var http = kestrel[$"Endpoints:{HttpName}:Url"]?.Trim().TrimEnd('/');
        return string.Equals(grpc, http, StringComparison.OrdinalIgnoreCase)
            && Uri.TryCreate(grpc?.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            && uri.Scheme == Uri.UriSchemeHttps && uri.Port != 0;
    }

    /// <summary>The Kestrel section without its Http endpoint (the single-port layout binds the Grpc endpoint only).</summary>
    public static IConfiguration WithoutHttpEndpoint(IConfiguration kestrel)
    {
        var prefix = $"Endpoints:{HttpName}";
        return new ConfigurationBuilder()
            .AddInMemoryCollection(kestrel.AsEnumerable(makePathsRelative: true)
                .Where(setting => !setting.Key.Equals(prefix, StringComparison.OrdinalIgnoreCase)
                    && !setting.Key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase)))
            .Build();
    }

    public void Capture(string name, ListenOptions listenOptions, string? url, bool isHttps)
    {
        if (name == GrpcName)
        {
            _grpc = listenOptions;
            _grpcUrl = url;
            _grpcIsHttps = isHttps;
        }
        else if (name == HttpName)
        {
            _http = listenOptions;
            _httpUrl = url;
            _httpIsHttps = isHttps;
        }
    }

    /// <summary>The Http endpoint's base URL with the port it is bound to (known once the server listens).</summary>
    public string? Address => BaseAddress(_http, _httpUrl, _httpIsHttps)?.GetLeftPart(UriPartial.Authority);

    /// <summary>The Grpc endpoint's base URL with the port it is bound to (known once the server listens).</summary>
    public Uri? GrpcAddress => BaseAddress(_grpc, _grpcUrl, _grpcIsHttps);

    private static Uri? BaseAddress(ListenOptions? listenOptions, string? url, bool isHttps)
    {
        if (listenOptions?.IPEndPoint is not { } bound || url is null || !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            return null;
        }

        // The configured host, unless it is a wildcard, which is no address a client can call back.
        var host = new UriBuilder(url.Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal)).Host;
        return new UriBuilder(isHttps ? "https" : "http", host, bound.Port).Uri;
    }

    /// <summary>
    /// False when a request arrived on the other cleartext endpoint than the one its route is served on. With TLS
    /// on one port (both names on it, or only one endpoint configured), every route is served there.
    /// </summary>
    public bool Serves(HubEndpointKind kind, int localPort)
    {
        var grpcPort = _grpc?.IPEndPoint?.Port;
        var httpPort = _http?.IPEndPoint?.Port;
        if (grpcPort is null || httpPort is null || grpcPort == httpPort)
        {
            return true;
        }

        return kind == HubEndpointKind.Grpc ? localPort != httpPort : localPort != grpcPort;
    }
}
