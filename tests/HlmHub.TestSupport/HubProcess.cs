using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace HlmHub.TestSupport;

/// <summary>The two loopback ports <see cref="HubProcess"/> chose for the hub's endpoints.</summary>
public readonly record struct HubPorts(int Http, int Grpc);

/// <summary>
/// The real hub (<c>src/HlmHub.Server</c>, built with the solution; not a project reference, which would copy the
/// hub's appsettings.json, and its Kestrel endpoints, into every test host) as a separate process, as an operator
/// runs it, with its two endpoints on free loopback ports. Its output is kept for assertions and failure messages;
/// disposing it kills it.
/// </summary>
public sealed partial class HubProcess : IAsyncDisposable
{
    /// <summary>
    /// How many times <see cref="WaitStartedAsync"/> starts the hub at most. Its ports are chosen free and released
    /// (<see cref="LoopbackPorts"/>), then bound by the hub: another process (a test running in parallel) may take one
    /// in between, and the hub then stops on Kestrel's "address already in use". Starting again on fresh ports makes
    /// that race harmless; a hub that loses its ports three times running has another problem, which the failure shows.
    /// </summary>
    public const int StartAttempts = 3;

    private readonly Func<HubPorts, Process> _launch;
    private readonly ConcurrentQueue<string> _output = new();
    private Process _process;

    private HubProcess(Func<HubPorts, Process> launch)
    {
        _launch = launch;
        Launch();
    }

    /// <summary>The Http endpoint's port (HTTP/1.1: token endpoint, discovery, health); a restart changes it, see <see cref="WaitStartedAsync"/>.</summary>
    public int HttpPort { get; private set; }

    /// <summary>The Grpc endpoint's port (HTTP/2); a restart changes it, see <see cref="WaitStartedAsync"/>.</summary>
    public int GrpcPort { get; private set; }

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}/");

    public string Issuer => $"http://127.0.0.1:{HttpPort}/";

    /// <summary>Standard output and standard error, interleaved as received.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The environment variable that names the hub to run instead of the build output (the benchmarks' hub process
    /// reads it too): <c>tools/test.sh</c> sets it to the server published ready-to-run, as operators deploy it
    /// (docs/operations.md), which starts in about 0.6 of the time; the process tests start the hub often (the crash
    /// tests alone 42 times).
    /// </summary>
    public const string ServerAssemblyVariable = "HLMHUB_SERVER_ASSEMBLY";

    /// <summary>
    /// <see cref="ServerAssemblyVariable"/> when set, else the server's build output in the configuration of the running
    /// test assembly.
    /// </summary>
    public static string ServerAssembly
    {
        get
        {
            if (Environment.GetEnvironmentVariable(ServerAssemblyVariable) is { Length: > 0 } published)
            {
                return Path.GetFullPath(published);
            }

            // tests/<project>/bin/<Configuration>/net10.0/ -> src/HlmHub.Server/bin/<Configuration>/net10.0/
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
        await using var hub = Start(settings, ["--migrate"]);
        var exitCode = await hub.WaitForExitAsync();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"--migrate exited with {exitCode}:\n{hub.Output}");
        }
    }

    /// <summary>
    /// Starts the hub with <paramref name="settings"/> (as command-line arguments), <paramref name="switches"/> and
    /// <paramref name="environment"/> variables; it serves once <see cref="WaitStartedAsync"/> returns.
    /// </summary>
    public static HubProcess Start(
        IReadOnlyDictionary<string, string?> settings, IReadOnlyList<string>? switches = null, IReadOnlyDictionary<string, string>? environment = null) =>
        Start(_ => settings, switches, environment);

    /// <summary>
    /// The same, with settings that use the ports chosen for the hub (an https URL on the Http endpoint's port, say):
    /// <paramref name="settings"/> is asked again for each start on fresh ports.
    /// </summary>
    public static HubProcess Start(
        Func<HubPorts, IReadOnlyDictionary<string, string?>> settings, IReadOnlyList<string>? switches = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var assembly = ServerAssembly;
        if (!File.Exists(assembly))
        {
            throw new InvalidOperationException($"{assembly} is missing: build the solution (or src/HlmHub.Server) first, or publish it where {ServerAssemblyVariable} says.");
        }

        return new HubProcess(ports => StartProcess(assembly, ports, settings(ports), switches, environment));
    }

    private static Process StartProcess(
        string assembly, HubPorts ports, IReadOnlyDictionary<string, string?> settings, IReadOnlyList<string>? switches, IReadOnlyDictionary<string, string>? environment)
    {
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

        var all = new Dictionary<string, string?>
        {
            // Two named endpoints, as the host has them: HTTP/1.1 for OAuth and health, HTTP/2 for gRPC.
            ["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{ports.Http}",
            ["Kestrel:Endpoints:Http:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{ports.Grpc}",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["Auth:Issuer"] = $"http://127.0.0.1:{ports.Http}/",
            ["Logging:LogLevel:Default"] = "Information",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        foreach (var (key, value) in all)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>
    /// Waits until the host says it has started (hosted services, the bootstrap included, have run). A hub that stopped
    /// because another process took one of the ports chosen for it is started again on fresh ones, up to
    /// <see cref="StartAttempts"/> times in all: read <see cref="HttpPort"/> and <see cref="GrpcPort"/> once this returns.
    /// </summary>
    public async Task WaitStartedAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WaitForAsync(output => output.Contains("Application started", StringComparison.Ordinal), "for the hub to start", TestTimeouts.Startup);
                return;
            }
            catch (InvalidOperationException) when (attempt < StartAttempts && LostAChosenPort() is { } line)
            {
                _process.Dispose();
                _output.Clear();
                Record($"[{nameof(HubProcess)}] start {attempt + 1} of at most {StartAttempts}, on fresh ports: start {attempt} stopped with: {line}");
                Launch();
            }
        }
    }

    /// <summary>
    /// Waits until the output satisfies <paramref name="condition"/> (<paramref name="what"/> names it in the failure,
    /// "for ..."); fails at once if the hub exits first, or after <paramref name="within"/> (default: <see cref="TestTimeouts.Default"/>).
    /// </summary>
    public Task WaitForAsync(Func<string, bool> condition, string what, TimeSpan? within = null) =>
        Poll.UntilAsync(
            async () =>
            {
                if (condition(Output))
                {
                    return true;
                }

                if (!_process.HasExited)
                {
                    return false;
                }

                // The output is read asynchronously and may lag behind the exit: read it to its end, for the condition
                // (a last line), the failure message and a restart's diagnosis.
                await _process.WaitForExitAsync().DefaultTimeout();
                if (condition(Output))
                {
                    return true;
                }

                throw new InvalidOperationException($"The hub exited with {_process.ExitCode} while waiting {what}:\n{Output}");
            },
            what,
            within,
            () => Output);

    /// <summary>SIGKILL (the whole process tree): the hub dies at once, mid-request or mid-job, without any shutdown.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().DefaultTimeout();
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code (all output read).</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Startup);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
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

    /// <summary>Starts the hub on fresh ports, its output recorded from its first line.</summary>
    [MemberNotNull(nameof(_process))]
    private void Launch()
    {
        var ports = LoopbackPorts.Free(2);
        (HttpPort, GrpcPort) = (ports[0], ports[1]);
        var process = _launch(new HubPorts(HttpPort, GrpcPort));
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>
    /// The line saying the exited hub could not bind one of the ports chosen for it (not one a test set on purpose), or
    /// null.
    /// </summary>
    private string? LostAChosenPort()
    {
        if (!_process.HasExited)
        {
            return null;
        }

        foreach (var line in Output.Split('\n'))
        {
            var match = AddressInUse().Match(line);
            if (match.Success && int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture) is var port && (port == HttpPort || port == GrpcPort))
            {
                return line;
            }
        }

        return null;
    }

    // Kestrel's IOException, which the hub prints in its configuration-error line (exit code 78): "Failed to bind to
    // address http://127.0.0.1:5080: address already in use."
    [GeneratedRegex(@"Failed to bind to address https?://127\.0\.0\.1:(?<port>\d+): address already in use")]
    private static partial Regex AddressInUse();
}
