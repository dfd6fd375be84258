using System.Globalization;
using HlmHub.InteropServer;

// grpc's interop server arguments: --port N (0 picks a free port). Only cleartext HTTP/2.
var port = ParsePort(args);
if (port is null)
{
    Console.Error.WriteLine("usage: HlmHub.InteropServer --port PORT [--use_tls false]");
    return 2;
}
await using var server = await InteropServerHost.StartAsync(port.Value);
// Peers and tests wait for this line to learn the port.
Console.WriteLine($"listening on 127.0.0.1:{server.Port}");
await server.WaitForShutdownAsync();
return 0;

static int? ParsePort(string[] arguments)
{
    int? port = null;
    for (var index = 0; index < arguments.Length; index++)
    {
        var (name, value) = arguments[index].Split('=', 2) is [var key, var inline] ? (key, (string?)inline)
            : (arguments[index], index + 1 < arguments.Length ? arguments[++index] : null);
        switch (name)
        {
            case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= 65535:
                port = parsed;
                break;
            case "--use_tls" when value == "false":
                break;
            default:
                return null;
        }
    }
    return port;
}
