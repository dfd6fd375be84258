using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using HlmHub.Identity;

namespace HlmHub.Bench.Redemptions;

/// <summary>
/// The real hub (src/HlmHub.Server, built in the same configuration as the caller) as a process of its own, on two
/// loopback ports chosen once, so a restart after a kill serves at the same addresses. Its last output lines are kept
/// for failure messages. <see cref="Kill"/> is SIGKILL (what .NET's Process.Kill sends on Linux): no shutdown code runs.
/// </summary>
internal sealed class HubServerProcess : IAsyncDisposable
{
    private const int KeptOutputLines = 300;

    private readonly Queue<string> _output = new();
    private readonly Lock _outputLock = new();
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private Process? _process;

    private HubServerProcess(IReadOnlyDictionary<string, string?> settings, string dataDirectory, int grpcPort, int httpPort)
    {
        _settings = settings;
        DataDirectory = dataDirectory;
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        HttpAddress = new Uri($"http://127.0.0.1:{httpPort}");
    }

    /// <summary>The Grpc endpoint (cleartext HTTP/2).</summary>
    public Uri GrpcAddress { get; }

    /// <summary>The Http endpoint (HTTP/1.1): token endpoint, JSON transcoding, /healthz.</summary>
    public Uri HttpAddress { get; }

    public string DataDirectory { get; }

    /// <summary>The running process's id (0 when none runs).</summary>
    public int ProcessId => _process is { HasExited: false } process ? process.Id : 0;

    /// <summary>The last lines the hub printed (standard output and error, interleaved).</summary>
    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>
    /// The hub's DLL: where the environment variable <c>HLMHUB_SERVER_ASSEMBLY</c> says (tools/test.sh points it at the
    /// hub published ready-to-run), else src/HlmHub.Server/bin/&lt;configuration&gt;/&lt;framework&gt;/, the
    /// configuration and framework being those of the calling assembly's own output folder.
    /// </summary>
    public static string ServerAssembly
    {
        get
        {
            if (Environment.GetEnvironmentVariable("HLMHUB_SERVER_ASSEMBLY") is { Length: > 0 } published)
            {
                return Path.GetFullPath(published);
            }

            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return Path.Combine(RepositoryRoot, "src", "HlmHub.Server", "bin", output.Parent!.Name, output.Name, "HlmHub.Server.dll");
        }
    }

    /// <summary>The checkout's root (the folder holding HlmHub.sln), found above the calling assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "HlmHub.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"HlmHub.sln not found above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>
    /// Starts the hub with <paramref name="settings"/> (configuration keys, e.g. <c>Storage:Provider</c>) on two free
    /// loopback ports; call <see cref="WaitReadyAsync"/> before using it.
    /// </summary>
    public static HubServerProcess Start(IReadOnlyDictionary<string, string?> settings, string dataDirectory)
    {
        var (grpcPort, httpPort) = TwoFreePorts();
        var hub = new HubServerProcess(settings, dataDirectory, grpcPort, httpPort);
        hub.Restart();
        return hub;
    }

    /// <summary>Starts the hub again, same settings and ports (after <see cref="Kill"/>).</summary>
    public void Restart()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The hub is still running.");
        }

        _process?.Dispose();
        var assembly = ServerAssembly;
        if (!File.Exists(assembly))
        {
            throw new InvalidOperationException($"{assembly} is missing: build src/HlmHub.Server in this configuration first, or publish it where HLMHUB_SERVER_ASSEMBLY says.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        var all = new Dictionary<string, string?>(_settings)
        {
            ["Kestrel:Endpoints:Grpc:Url"] = GrpcAddress.ToString().TrimEnd('/'),
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["Kestrel:Endpoints:Http:Url"] = HttpAddress.ToString().TrimEnd('/'),
            ["Kestrel:Endpoints:Http:Protocols"] = "Http1",
            ["Auth:Issuer"] = HttpAddress.ToString(),
            ["Storage:DataDirectory"] = DataDirectory,
            // Longer than any run (the memory run over 10 million redemptions takes over half an hour): the load
            // generator takes one token, as a partner reuses its token, and must not see it expire mid-run.
            ["Auth:TokenLifetime"] = "04:00:00",
        };
        foreach (var (key, value) in all)
        {
            if (value is not null)
            {
                start.ArgumentList.Add($"--{key}={value}");
            }
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("Could not start the hub.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Waits until the Http endpoint answers /healthz with 200 (Kestrel listens once the hosted services, migrations and bootstrap included, have started).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"The hub exited while starting ({_process?.ExitCode}):\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Listening but busy starting.
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The hub did not answer /healthz within {timeout.TotalSeconds:0} s:\n{Output}");
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    /// <summary>SIGKILL, then waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// SIGTERM, as a service manager stops the hub (a graceful shutdown, draining calls for
    /// <c>Hub:ShutdownDrainTimeout</c>), then waits up to <paramref name="timeout"/> for the process to exit; returns
    /// its exit code.
    /// </summary>
    public async Task<int> TerminateAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var process = _process ?? throw new InvalidOperationException("The hub was never started.");
        // .NET only sends SIGKILL (Process.Kill); procps' `kill` sends the signal a service manager sends.
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cancellationToken);
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The hub was still running {timeout.TotalSeconds:0} s after SIGTERM:\n{Output}");
        }

        return process.ExitCode;
    }

    /// <summary>The hub's resident set size (VmRSS in /proc), in bytes; 0 when it does not run.</summary>
    public long ResidentBytes()
    {
        if (ProcessId == 0)
        {
            return 0;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{ProcessId}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // Exited between the check and the read.
        }

        return 0;
    }

    /// <summary>The hub's CPU time so far (user + system), from /proc; zero when it does not run.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{ProcessId}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // Fields after the command name start at state (3): utime is field 14, stime 15.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>
    /// The bootstrap hub administrator's credentials (bootstrap-admin.json in the data directory). The hub writes the
    /// file once it has started, so after /healthz answers: this waits for it (up to <paramref name="timeout"/>).
    /// </summary>
    public async Task<(string ClientId, string Secret)> BootstrapAdminAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = Path.Combine(DataDirectory, "bootstrap-admin.json");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path, cancellationToken));
                return (json.RootElement.GetProperty("client_id").GetString()!, json.RootElement.GetProperty("client_secret").GetString()!);
            }
            catch (Exception error) when (error is IOException or JsonException or KeyNotFoundException && clock.Elapsed < timeout)
            {
                // Not written yet, or being written: the hub holds the file open exclusively while it writes it, and
                // .NET refuses to open a file another process holds that way (IOException, not only FileNotFound).
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>An access token from the hub's token endpoint (client_secret_basic over HTTP/1.1).</summary>
    public async Task<string> GetTokenAsync(string clientId, string secret, string? scope, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = HttpAddress };
        return await TokenEndpoint.GetTokenAsync(http, clientId, secret, scope, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputLock)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptOutputLines)
            {
                _output.Dequeue();
            }
        }
    }

    // Both held until both are chosen, so the two endpoints never get the same port.
    private static (int First, int Second) TwoFreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
    }
}

/// <summary>The hub's OAuth token endpoint, as a partner's HTTP client calls it.</summary>
internal static class TokenEndpoint
{
    /// <summary>A client-credentials token (client_secret_basic); throws with the body when refused.</summary>
    public static async Task<string> GetTokenAsync(HttpClient http, string clientId, string secret, string? scope, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scope is not null)
        {
            form.Add(new("scope", scope));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(IdentityEndpointPaths.Token, UriKind.Relative)) { Content = new FormUrlEncodedContent(form) };
        var credentials = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"The token endpoint refused {clientId}: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
