using System.Net;
using System.Security.Cryptography.X509Certificates;
using HlmHub.Grpc.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HlmHub.Grpc.Tests.Infrastructure;

/// <summary>
/// Our gRPC server on real Kestrel at 127.0.0.1:0 (cleartext HTTP/2), serving the echo service,
/// health and reflection. Disposing it fails the test if the server logged an error the test did
/// not declare with <see cref="ExpectErrorLog"/>.
/// </summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TestLoggerProvider _logs;
    private readonly List<Func<LogRecord, bool>> _expectedErrors = [];
    private readonly List<GrpcChannel> _channels = [];

    private GrpcTestServer(WebApplication app, TestLoggerProvider logs, EchoProbe probe, Uri address)
    {
        _app = app;
        _logs = logs;
        Probe = probe;
        Address = address;
        Channel = CreateChannel();
    }

    public Uri Address { get; }

    public EchoProbe Probe { get; }

    /// <summary>A client channel with default options.</summary>
    public GrpcChannel Channel { get; }

    public IServiceProvider Services => _app.Services;

    public IReadOnlyCollection<LogRecord> Logs => _logs.Records;

    public static async Task<GrpcTestServer> StartAsync(
        Action<GrpcServerOptions>? configureGrpc = null,
        Action<IServiceCollection>? configureServices = null,
        Action<WebApplication>? mapExtra = null,
        TimeSpan? shutdownTimeout = null,
        X509Certificate2? certificate = null)
    {
        var logs = new TestLoggerProvider();
        var probe = new EchoProbe();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                // TLS: ALPN offers h2 only, as the hub does when a certificate is configured.
                listen.UseHttps(certificate);
            }
        }));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(5));
        builder.Services.AddHlmGrpc(configureGrpc);
        builder.Services.AddSingleton(probe);
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapGrpcService<EchoService>(EchoMethods.Service);
        app.MapGrpcHealth();
        app.MapGrpcReflection();
        mapExtra?.Invoke(app);
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new GrpcTestServer(app, logs, probe, new Uri(address));
    }

    /// <summary>A channel to this server; disposed with the server.</summary>
    public GrpcChannel CreateChannel(GrpcChannelOptions? options = null)
    {
        var channel = GrpcChannel.ForAddress(Address, options);
        _channels.Add(channel);
        return channel;
    }

    /// <summary>An HTTP/2-only client for requests our gRPC client would never send.</summary>
    public HttpClient CreateRawHttpClient() => new()
    {
        BaseAddress = Address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    /// <summary>Declares an error log the test provokes on purpose.</summary>
    public void ExpectErrorLog(Func<LogRecord, bool> match) => _expectedErrors.Add(match);

    public Task StopAsync() => _app.StopAsync().DefaultTimeout();

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        var unexpected = _logs.Records
            .Where(record => record.Level >= LogLevel.Error && !_expectedErrors.Any(match => match(record)))
            .ToList();
        if (unexpected.Count > 0)
        {
            Assert.Fail("The server logged unexpected errors:\n" + string.Join("\n", unexpected));
        }
    }
}
