using System.Globalization;
using HlmHub.Bench;

// The transport benchmark's .NET side (tools/bench/transport.sh drives it):
//   serve --kind plain|hub --port N [--token-out FILE]
//                             hlmhub.bench.Echo on grpc-dotnet, plain or behind the hub's authentication and
//                             authorization (hub: also writes a real access token to FILE)
//   bodies --out DIR          writes the h2load request bodies unary.bin and bidi.bin
//   verify --file F --messages N   checks that F holds exactly N echoed messages
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
    case "serve" when options.TryGetValue("port", out var port) && options.TryGetValue("kind", out var kind):
        var serverKind = kind switch
        {
            "plain" => BenchServerKind.Plain,
            "hub" => BenchServerKind.Hub,
            _ => throw new ArgumentException($"Unknown --kind '{kind}' (plain, hub)."),
        };
        await BenchServers.RunAsync(serverKind, ParsePort(port), options.GetValueOrDefault("token-out"));
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
    Console.Error.WriteLine("usage: HlmHub.Bench serve --kind plain|hub --port N [--token-out FILE] | bodies --out DIR | verify --file F --messages N");
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
