using System.Globalization;
using HlmHub.Bench;

// The transport benchmark's .NET side (tools/bench/transport.sh drives it):
//   serve --port N [--sample-allocations yes]   our transport serving hlmhub.bench.Echo
//   bare --port N [--sample-allocations yes] [--per-message read|try-read] [--routing literal|fallback|terminal]
//                             bare Kestrel HTTP/2 echo of length-prefixed messages (the ceiling)
//   protobuf                  time and allocations of parsing + serializing the sample message in-process
//   bodies --out DIR          writes the h2load request bodies unary.bin and bidi.bin
//   verify --file F --messages N   checks that F holds exactly N echoed messages
// Both servers answer GET /bench/stats with the process's allocation and GC counters and, with
// --sample-allocations yes, GET /bench/allocations with the sampled allocations by type (DELETE resets).
if (args.Length == 0)
{
    return Usage();
}
var options = ParseOptions(args.AsSpan(1));
if (options is null)
{
    return Usage();
}
switch (args[0])
{
    case "serve" when options.TryGetValue("port", out var port):
        await BenchServers.RunAsync(BenchServerKind.Grpc, ParsePort(port), SampleAllocations(options));
        return 0;
    case "bare" when options.TryGetValue("port", out var port):
        var kind = options.GetValueOrDefault("per-message") switch
        {
            null => BenchServerKind.Bare,
            "read" => BenchServerKind.BareReadEachMessage,
            "try-read" => BenchServerKind.BareTryReadEachMessage,
            var other => throw new ArgumentException($"Unknown --per-message mode '{other}' (read, try-read)."),
        };
        await BenchServers.RunAsync(kind, ParsePort(port), SampleAllocations(options), options.GetValueOrDefault("routing"));
        return 0;
    case "protobuf":
        ProtobufCost.Measure();
        return 0;
    case "bodies" when options.TryGetValue("out", out var directory):
        BenchBodies.Write(directory);
        return 0;
    case "verify" when options.TryGetValue("file", out var file) && options.TryGetValue("messages", out var messages):
        return BenchBodies.Verify(file, int.Parse(messages, NumberStyles.None, CultureInfo.InvariantCulture)) ? 0 : 1;
    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: HlmHub.Bench serve --port N [--sample-allocations yes] | bare --port N [--sample-allocations yes] [--per-message read|try-read] [--routing literal|fallback|terminal] | protobuf | bodies --out DIR | verify --file F --messages N");
    return 2;
}

static Dictionary<string, string>? ParseOptions(ReadOnlySpan<string> arguments)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var index = 0; index + 1 < arguments.Length; index += 2)
    {
        if (!arguments[index].StartsWith("--", StringComparison.Ordinal))
        {
            return null;
        }
        options[arguments[index][2..]] = arguments[index + 1];
    }
    return arguments.Length % 2 == 0 ? options : null;
}

static bool SampleAllocations(Dictionary<string, string> options) =>
    options.TryGetValue("sample-allocations", out var value) && value == "yes";

static int ParsePort(string value) =>
    int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
        ? port
        : throw new ArgumentException($"Invalid port '{value}'.");
