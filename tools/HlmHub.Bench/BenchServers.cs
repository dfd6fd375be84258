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

    /// <summary>The bare Kestrel echo, one ReadAsync and one flush per message (profiling only).</summary>
    BareReadEachMessage,

    /// <summary>As <see cref="BareReadEachMessage"/>, taking buffered messages with TryRead (profiling only).</summary>
    BareTryReadEachMessage,
}

/// <summary>Hosts one of the benchmark's .NET servers on 127.0.0.1, cleartext HTTP/2 only (h2c with prior knowledge).</summary>
internal static class BenchServers
{
    /// <summary>Where both servers report their allocation and GC counters (read by the script between runs).</summary>
    public const string StatsPath = "/bench/stats";

    /// <summary>With sampling on: GET reports the sampled allocations by type since the last DELETE.</summary>
    public const string AllocationsPath = "/bench/allocations";

    /// <param name="kind">Which server.</param>
    /// <param name="port">Loopback port.</param>
    /// <param name="sampleAllocations">Turns the allocation sampler on.</param>
    /// <param name="routed">
    /// Bare server only, profiling: "literal" serves the echo through endpoint routing on the two
    /// literal method paths; "fallback" adds a two-parameter catch-all route beside them, as our
    /// transport maps for UNIMPLEMENTED; "terminal" answers unmatched paths from a terminal middleware
    /// appended by an <see cref="IStartupFilter"/> instead (no route beside the literal ones). Null:
    /// no routing (the ceiling).
    /// </param>
    public static async Task RunAsync(BenchServerKind kind, int port, bool sampleAllocations, string? routed = null)
    {
        using var sampler = sampleAllocations ? new AllocationSampler() : null;
        sampler?.Start();
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
        if (routed == "terminal")
        {
            builder.Services.AddSingleton<IStartupFilter, UnmatchedPathFilter>();
        }

        var application = builder.Build();
        if (kind == BenchServerKind.Grpc)
        {
            application.MapGrpcService<EchoService>(BenchReflection.Descriptor.Services.Single(service => service.FullName == "hlmhub.bench.Echo"));
            application.MapGet(StatsPath, WriteStatsAsync);
            application.Map(AllocationsPath, context => HandleAllocationsAsync(context, sampler));
        }
        else if (routed is not null)
        {
            application.MapGet(StatsPath, WriteStatsAsync);
            application.Map(AllocationsPath, context => HandleAllocationsAsync(context, sampler));
            application.MapPost("/hlmhub.bench.Echo/Unary", BareEcho.HandleAsync);
            application.MapPost("/hlmhub.bench.Echo/Bidi", BareEcho.HandleAsync);
            if (routed == "fallback")
            {
                application.MapPost("/{unknownService}/{unknownMethod}", context =>
                {
                    context.Response.AppendTrailer("grpc-status", "12");
                    return Task.CompletedTask;
                });
            }
        }
        else
        {
            application.Run(context => context.Request.Path == StatsPath ? WriteStatsAsync(context)
                : context.Request.Path == AllocationsPath ? HandleAllocationsAsync(context, sampler)
                : kind == BenchServerKind.Bare ? BareEcho.HandleAsync(context)
                : BareEcho.HandlePerMessageAsync(context, tryReadFirst: kind == BenchServerKind.BareTryReadEachMessage));
        }
        await application.StartAsync();
        // The script waits for this line.
        Console.WriteLine($"listening on 127.0.0.1:{port} ({kind})");
        await application.WaitForShutdownAsync();
    }

    /// <summary>Runs after the whole application pipeline: only requests no endpoint matched get here.</summary>
    private sealed class UnmatchedPathFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => application =>
        {
            next(application);
            application.Run(context =>
            {
                context.Response.ContentType = "application/grpc";
                context.Response.Headers["grpc-status"] = "12";
                return Task.CompletedTask;
            });
        };
    }

    private static Task HandleAllocationsAsync(HttpContext context, AllocationSampler? sampler)
    {
        context.Response.ContentType = "text/plain";
        if (sampler is null)
        {
            return context.Response.WriteAsync("allocation sampling is off: start with --sample-allocations yes\n", context.RequestAborted);
        }
        if (HttpMethods.IsDelete(context.Request.Method))
        {
            sampler.Reset();
            return Task.CompletedTask;
        }
        return context.Response.WriteAsync(sampler.Report(), context.RequestAborted);
    }

    private static Task WriteStatsAsync(HttpContext context)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"allocated_bytes={GC.GetTotalAllocatedBytes(precise: true)} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} server_gc={System.Runtime.GCSettings.IsServerGC}\n");
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }
}
