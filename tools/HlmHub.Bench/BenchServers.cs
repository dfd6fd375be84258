using System.Globalization;
using System.Net;
using HlmHub.Grpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HlmHub.Bench;

internal enum BenchServerKind
{
    /// <summary>Our transport serving hlmhub.bench.Echo.</summary>
    Grpc,

    /// <summary>The bare Kestrel echo (<see cref="BareEcho"/>).</summary>
    Bare,
}

/// <summary>Hosts one of the benchmark's .NET servers on 127.0.0.1, cleartext HTTP/2 only (h2c with prior knowledge).</summary>
internal static class BenchServers
{
    /// <summary>Where both servers report their allocation and GC counters (read by the script between runs).</summary>
    public const string StatsPath = "/bench/stats";

    public static async Task RunAsync(BenchServerKind kind, int port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Warning and above only: the benchmark measures the transport, not log formatting.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kestrel cannot serve HTTP/1.1 and HTTP/2 on one cleartext port: HTTP/2 only (h2c with
            // prior knowledge, as gRPC clients and h2load speak it). Defaults apply to endpoints added after.
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
        });
        if (kind == BenchServerKind.Grpc)
        {
            builder.Services.AddHlmGrpc();
        }

        var application = builder.Build();
        if (kind == BenchServerKind.Grpc)
        {
            application.MapGrpcService<EchoService>(BenchReflection.Descriptor.Services.Single(service => service.FullName == "hlmhub.bench.Echo"));
            application.MapGet(StatsPath, WriteStatsAsync);
        }
        else
        {
            application.Run(context => context.Request.Path == StatsPath ? WriteStatsAsync(context) : BareEcho.HandleAsync(context));
        }
        await application.StartAsync();
        // The script waits for this line.
        Console.WriteLine($"listening on 127.0.0.1:{port} ({kind})");
        await application.WaitForShutdownAsync();
    }

    private static Task WriteStatsAsync(HttpContext context)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"allocated_bytes={GC.GetTotalAllocatedBytes(precise: true)} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} server_gc={System.Runtime.GCSettings.IsServerGC}\n");
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }
}
