using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>
/// The real hub (<c>src/HlmHub.Server</c>, built with the solution; not a project reference, which would copy the
/// hub's appsettings.json, and its Kestrel endpoints, into every test host here) as a separate process, with its HTTP/1.1
/// endpoint on a free loopback port. Its output is kept for assertions and failure messages; disposing it kills it.
/// </summary>
internal sealed class HubProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HubProcess(Process process, int httpPort, int grpcPort)
    {
        _process = process;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }

    /// <summary>The gRPC endpoint's port (cleartext HTTP/2 on 127.0.0.1).</summary>
    public int GrpcPort { get; }

    public string Issuer => $"http://127.0.0.1:{HttpPort}/";

    public string Output => string.Join('\n', _output);

    /// <summary>The server's build output: same configuration as this test assembly.</summary>
    public static string ServerAssembly
    {
        get
        {
            // tests/HlmHub.Identity.Tests/bin/<Configuration>/net10.0/ -> src/HlmHub.Server/bin/<Configuration>/net10.0/
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = testOutput.Name;
            var configuration = testOutput.Parent!.Name;
            var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(repository, "src", "HlmHub.Server", "bin", configuration, framework, "HlmHub.Server.dll");
        }
    }

    /// <summary>Runs the hub with <c>--migrate</c> and waits for it to exit.</summary>
    public static async Task MigrateAsync(IReadOnlyDictionary<string, string?> settings)
    {
        await using var hub = Start(settings, ["--migrate"], httpPort: FreePort(), grpcPort: FreePort());
        await hub._process.WaitForExitAsync().DefaultTimeout();
        Assert.True(hub._process.ExitCode == 0, $"--migrate exited with {hub._process.ExitCode}:\n{hub.Output}");
    }

    /// <summary>Starts the hub; it serves once <see cref="WaitStartedAsync"/> returns.</summary>
    public static HubProcess Start(IReadOnlyDictionary<string, string?> settings) => Start(settings, [], FreePort(), FreePort());

    private static HubProcess Start(IReadOnlyDictionary<string, string?> settings, IReadOnlyList<string> switches, int httpPort, int grpcPort)
    {
        var assembly = ServerAssembly;
        Assert.True(File.Exists(assembly), $"{assembly} is missing: build the solution (or src/HlmHub.Server) first.");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (var @switch in switches)
        {
            start.ArgumentList.Add(@switch);
        }
        var all = new Dictionary<string, string?>(settings)
        {
            // Two named endpoints, as the host will have them: HTTP/1.1 for OAuth, HTTP/2 for gRPC.
            ["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{httpPort}",
            ["Kestrel:Endpoints:Http:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{grpcPort}",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["Auth:Issuer"] = $"http://127.0.0.1:{httpPort}/",
            ["Logging:LogLevel:Default"] = "Information",
        };
        foreach (var (key, value) in all)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return new HubProcess(Process.Start(start)!, httpPort, grpcPort);
    }

    /// <summary>Waits until the host says it has started (hosted services, the bootstrap included, have run).</summary>
    public async Task WaitStartedAsync()
    {
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
        while (!Output.Contains("Application started", StringComparison.Ordinal))
        {
            Assert.False(_process.HasExited, $"The hub exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "The hub did not start within 60 s:\n" + Output);
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout();
        }
        _process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
