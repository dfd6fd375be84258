using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>
/// The real hub (<c>src/HlmHub.Server</c>'s build output) as a separate process on free loopback ports, its output
/// kept for assertions. <see cref="Kill"/> is SIGKILL: no shutdown hook runs, as in a crash. Disposing kills it.
/// </summary>
internal sealed partial class HubNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HubNode(string name, Process process, int httpPort)
    {
        Name = name;
        _process = process;
        HttpPort = httpPort;
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The node's Quartz instance id (Scheduling:InstanceId).</summary>
    public string Name { get; }

    public int HttpPort { get; }

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>The server's build output: same configuration as this test assembly.</summary>
    private static string ServerAssembly
    {
        get
        {
            // tests/HlmHub.Scheduling.Tests/bin/<Configuration>/net10.0/ -> src/HlmHub.Server/bin/<Configuration>/net10.0/
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var repository = testOutput.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(repository, "src", "HlmHub.Server", "bin", testOutput.Parent.Name, testOutput.Name, "HlmHub.Server.dll");
        }
    }

    /// <summary>Runs the hub with <c>--migrate</c> and waits for it to exit.</summary>
    public static async Task MigrateAsync(IReadOnlyDictionary<string, string?> settings)
    {
        await using var hub = Start("migrate", settings, ["--migrate"]);
        await hub._process.WaitForExitAsync().WaitAsync(TestTimeouts.Startup);
        Assert.True(hub._process.ExitCode == 0, $"--migrate exited with {hub._process.ExitCode}:\n{hub.Output}");
    }

    /// <summary>Starts a hub node named <paramref name="name"/> (its Quartz instance id); it serves once <see cref="WaitStartedAsync"/> returns.</summary>
    public static HubNode Start(string name, IReadOnlyDictionary<string, string?> settings, IReadOnlyList<string>? switches = null)
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
        foreach (var @switch in switches ?? [])
        {
            start.ArgumentList.Add(@switch);
        }

        var httpPort = FreePort();
        var all = new Dictionary<string, string?>(settings)
        {
            ["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{httpPort}",
            ["Kestrel:Endpoints:Http:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{FreePort()}",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["Auth:Issuer"] = $"http://127.0.0.1:{httpPort}/",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:HlmHub"] = "Information",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:SingleLine"] = "true",
            ["Scheduling:InstanceId"] = name,
        };
        foreach (var (key, value) in all)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return new HubNode(name, Process.Start(start)!, httpPort);
    }

    /// <summary>Waits until the host says it has started (hosted services have run; the scheduler starts right after).</summary>
    public Task WaitStartedAsync() => WaitForAsync(output => output.Contains("Application started", StringComparison.Ordinal), "to start", TestTimeouts.Startup);

    /// <summary>Waits until the output satisfies <paramref name="condition"/>.</summary>
    public async Task WaitForAsync(Func<string, bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = TimeProvider.System.GetUtcNow() + (within ?? TestTimeouts.Default);
        while (!condition(Output))
        {
            Assert.False(_process.HasExited, $"{Name} exited with {(_process.HasExited ? _process.ExitCode : 0)} waiting {what}:\n{Output}");
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"{Name} did not {what} in time:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>How many times <paramref name="job"/> started on this node, and how many of those were recoveries.</summary>
    public (int Started, int Recovering, int Finished) Runs(string job) =>
        (StartedLine().Matches(Output).Count(match => match.Groups["job"].Value == job),
         StartedLine().Matches(Output).Count(match => match.Groups["job"].Value == job && match.Groups["recovering"].Value == "True"),
         FinishedLine().Matches(Output).Count(match => match.Groups["job"].Value == job));

    /// <summary>SIGKILL: the process dies at once, mid-job, without any shutdown.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().DefaultTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Scheduled job (?<job>[a-z-]+) started on node \S+ \(recovering: (?<recovering>True|False)\)")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"Scheduled job (?<job>[a-z-]+) finished on node")]
    private static partial Regex FinishedLine();

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
