using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.TestSupport;

/// <summary>
/// A stand-in OTLP/HTTP collector (<c>http/protobuf</c>): keeps the path, content type and body of every POST
/// (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>) and answers 200. <see cref="OtlpMetrics"/> reads the metric bodies.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpCollector(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The base URL to give the exporter (<c>Telemetry:OtlpEndpoint</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).</summary>
    public string Address { get; }

    public ConcurrentQueue<string> Posts { get; } = new();

    public ConcurrentQueue<string> ContentTypes { get; } = new();

    /// <summary>Every body received, with the path it was posted to.</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> Bodies { get; } = new();

    /// <summary>The bodies posted to <paramref name="path"/> so far (<c>/v1/metrics</c>, ...).</summary>
    public IReadOnlyList<byte[]> BodiesOf(string path) => Bodies.Where(body => body.Path == path).Select(body => body.Body).ToList();

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Not the hub's appsettings.json (copied beside the tests), whose Kestrel endpoints are the hub's ports.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [WebHostDefaults.ServerUrlsKey] = "http://127.0.0.1:0" });
        var app = builder.Build();
        OtlpCollector? collector = null;
        app.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            collector!.Bodies.Enqueue((context.Request.Path, body.ToArray()));
            collector.Posts.Enqueue(context.Request.Path);
            collector.ContentTypes.Enqueue(context.Request.ContentType ?? "");
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        collector = new OtlpCollector(app, address);
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One metric of an OTLP export: its name, unit and, for a histogram, the bucket bounds of its data points.</summary>
public sealed record OtlpMetric(string Name, string Description, string Unit, IReadOnlyList<double> HistogramBounds);

/// <summary>
/// Reads the metrics of an OTLP <c>ExportMetricsServiceRequest</c> (opentelemetry-proto, metrics/v1/metrics.proto):
/// only the fields the tests look at, straight from the protobuf wire format, so no generated OTLP classes are needed.
/// </summary>
public static class OtlpMetrics
{
    public static IReadOnlyList<OtlpMetric> Read(byte[] body)
    {
        var metrics = new List<OtlpMetric>();
        foreach (var resourceMetrics in Messages(body, 1))
        {
            foreach (var scopeMetrics in Messages(resourceMetrics, 2))
            {
                foreach (var metric in Messages(scopeMetrics, 2))
                {
                    var bounds = new List<double>();
                    foreach (var histogram in Messages(metric, 9))
                    {
                        foreach (var point in Messages(histogram, 1))
                        {
                            bounds = Doubles(point, 7);
                        }
                    }

                    metrics.Add(new OtlpMetric(Text(metric, 1), Text(metric, 2), Text(metric, 3), bounds));
                }
            }
        }

        return metrics;
    }

    private static IEnumerable<byte[]> Messages(byte[] message, int field) =>
        Fields(message).Where(item => item.Field == field && item.Bytes is not null).Select(item => item.Bytes!).ToList();

    private static string Text(byte[] message, int field) =>
        Fields(message).Where(item => item.Field == field && item.Bytes is not null).Select(item => System.Text.Encoding.UTF8.GetString(item.Bytes!)).LastOrDefault() ?? "";

    /// <summary>A repeated double: packed (one length-delimited run) or one fixed64 per value.</summary>
    private static List<double> Doubles(byte[] message, int field)
    {
        var values = new List<double>();
        foreach (var item in Fields(message).Where(item => item.Field == field))
        {
            if (item.Bytes is { } packed)
            {
                for (var offset = 0; offset + 8 <= packed.Length; offset += 8)
                {
                    values.Add(BitConverter.ToDouble(packed, offset));
                }
            }
            else
            {
                values.Add(BitConverter.Int64BitsToDouble((long)item.Value));
            }
        }

        return values;
    }

    private static List<(int Field, ulong Value, byte[]? Bytes)> Fields(byte[] message)
    {
        var fields = new List<(int, ulong, byte[]?)>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    fields.Add((field, Varint(message, ref position), null));
                    break;
                case 1:
                    fields.Add((field, BitConverter.ToUInt64(message, position), null));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    fields.Add((field, 0, message[position..(position + length)]));
                    position += length;
                    break;
                case 5:
                    fields.Add((field, BitConverter.ToUInt32(message, position), null));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {tag & 7} at {position}.");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var current = message[position++];
            value |= (ulong)(current & 0x7F) << shift;
            if ((current & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
