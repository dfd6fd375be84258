using System.Globalization;
using HlmHub.Bench;

// The transport benchmark's .NET side (tools/bench/transport.sh drives it):
//   serve --port N            our transport serving hlmhub.bench.Echo
//   bare --port N             bare Kestrel HTTP/2 echo of length-prefixed messages (the ceiling)
//   bodies --out DIR          writes the h2load request bodies unary.bin and bidi.bin
//   verify --file F --messages N   checks that F holds exactly N echoed messages
// Both servers answer GET /bench/stats with the process's allocation and GC counters.
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
        await BenchServers.RunAsync(BenchServerKind.Grpc, ParsePort(port));
        return 0;
    case "bare" when options.TryGetValue("port", out var port):
        await BenchServers.RunAsync(BenchServerKind.Bare, ParsePort(port));
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
    Console.Error.WriteLine("usage: HlmHub.Bench serve --port N | bare --port N | bodies --out DIR | verify --file F --messages N");
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

static int ParsePort(string value) =>
    int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
        ? port
        : throw new ArgumentException($"Invalid port '{value}'.");
