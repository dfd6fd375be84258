using System.Net;
using HlmHub.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HlmHub.InteropServer;

/// <summary>
/// The interop server (grpc.testing.TestService, health, reflection) on our transport, on
/// 127.0.0.1 over cleartext HTTP/2. Used by <c>Program</c> and hosted in-process by the tests.
/// </summary>
public sealed class InteropServerHost : IAsyncDisposable
{
    /// <summary>How long a stop waits for in-flight calls before aborting them.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _application;

    private InteropServerHost(WebApplication application, int port)
    {
        _application = application;
        Port = port;
    }

    /// <summary>The bound TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The server's address, e.g. <c>http://127.0.0.1:5001</c>.</summary>
    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// Starts the server on <paramref name="port"/> (0 picks a free port: read <see cref="Port"/>).
    /// <paramref name="loggerProvider"/>, when given, receives the server's logs (tests use it to
    /// catch unexpected errors); otherwise logs go to the console at Warning and above.
    /// </summary>
    public static async Task<InteropServerHost> StartAsync(int port, ILoggerProvider? loggerProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (loggerProvider is null)
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        }
        else
        {
            builder.Logging.AddProvider(loggerProvider).SetMinimumLevel(LogLevel.Information);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddHlmGrpc();

        var application = builder.Build();
        application.MapGrpcService<TestServiceImpl>(global::Grpc.Testing.TestReflection.Descriptor.Services.Single(service => service.FullName == "grpc.testing.TestService"));
        application.MapGrpcHealth();
        application.MapGrpcReflection();
        await application.StartAsync(cancellationToken);

        var addresses = application.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var boundPort = new Uri(addresses.Single()).Port;
        return new InteropServerHost(application, boundPort);
    }

    /// <summary>Completes when the application is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _application.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(ShutdownTimeout);
        await _application.StopAsync(timeout.Token);
        await _application.DisposeAsync();
    }
}
