using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using HlmHub.Identity;
using HlmHub.Server.Features.Admin;
using HlmHub.Server.Hosting;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>
/// The real hub: HlmHub.Server's own Program (its entry point, run in-process with command-line arguments) on
/// Kestrel, both named endpoints at 127.0.0.1:0 (gRPC over HTTP/2, token endpoint over HTTP/1.1), over a
/// <see cref="TestDatabase"/>. The built host is caught through the hosting
/// diagnostic events (as WebApplicationFactory does) to read its address and services and to collect its
/// logs. Disposing it stops the hub and fails the test on any error log the test did not expect.
/// </summary>
internal sealed class HubHost : IAsyncDisposable
{
    // The hosting diagnostic events are process-wide: hubs are built one at a time so each catches its own host.
    private static readonly SemaphoreSlim BuildGate = new(1, 1);

    private readonly IHost _host;
    private readonly Task _run;
    private readonly TestLoggerProvider _logs;
    private readonly HttpClient _http;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<LogRecord, byte> _acceptedErrors = new(ReferenceEqualityComparer.Instance);

    private HubHost(IHost host, Task run, TestLoggerProvider logs, Uri address, Uri httpAddress, string dataDirectory)
    {
        _host = host;
        _run = run;
        _logs = logs;
        Address = address;
        HttpAddress = httpAddress;
        DataDirectory = dataDirectory;
        Channel = GrpcChannel.ForAddress(address);
        // An ordinary HTTP/1.1 client, as a partner's OAuth library would be.
        _http = new HttpClient { BaseAddress = httpAddress };
    }

    /// <summary>The Grpc endpoint (cleartext HTTP/2).</summary>
    public Uri Address { get; }

    /// <summary>The Http endpoint (HTTP/1.1): token endpoint, discovery, /healthz.</summary>
    public Uri HttpAddress { get; }

    public string DataDirectory { get; }

    public GrpcChannel Channel { get; }

    public IServiceProvider Services => _host.Services;

    public IReadOnlyCollection<LogRecord> Logs => _logs.Records;

    /// <summary>
    /// Marks the errors logged so far that <paramref name="causedOnPurpose"/> matches as what the calling test made
    /// the hub do, so that disposing does not fail on them; returns how many. Any other error still fails.
    /// </summary>
    public int AcceptErrors(Func<LogRecord, bool> causedOnPurpose)
    {
        var accepted = 0;
        foreach (var record in _logs.Records.Where(record => record.Level >= LogLevel.Error && causedOnPurpose(record)))
        {
            accepted += _acceptedErrors.TryAdd(record, 0) ? 1 : 0;
        }

        return accepted;
    }

    /// <summary>Starts the hub's Program with <paramref name="database"/>'s settings and <paramref name="extraArguments"/>.</summary>
    public static Task<HubHost> StartAsync(TestDatabase database, params string[] extraArguments) => StartAsync(database, clock: null, extraArguments);

    /// <summary>
    /// Starts the hub's Program as <see cref="StartAsync(TestDatabase, string[])"/> does, with <paramref name="clock"/>
    /// as its <see cref="TimeProvider"/> (registered after the Program's own services, so every service that takes one
    /// gets it): a test can step the hub's clock, backward too.
    /// </summary>
    public static Task<HubHost> StartWithClockAsync(TestDatabase database, TimeProvider clock, params string[] extraArguments) =>
        StartAsync(database, clock, extraArguments);

    private static async Task<HubHost> StartAsync(TestDatabase database, TimeProvider? clock, string[] extraArguments)
    {
        string[] arguments =
        [
            "--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0",
            "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:HlmHub=Information",
            .. database.HubArguments,
            .. extraArguments,
        ];
        var logs = new TestLoggerProvider();
        var built = new TaskCompletionSource<IHost>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task run;
        IHost host;
        await BuildGate.WaitAsync().DefaultTimeout();
        try
        {
            using var subscription = DiagnosticListener.AllListeners.Subscribe(new HostingObserver(built, logs, clock));
            var entryPoint = typeof(AdminService).Assembly.EntryPoint
                ?? throw new InvalidOperationException("HlmHub.Server has no entry point.");
            run = Task.Factory.StartNew(
                () => RunEntryPoint(entryPoint, arguments),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            var first = await Task.WhenAny(built.Task, run).WaitAsync(TestTimeouts.Startup);
            if (first == run)
            {
                await run;
                throw new InvalidOperationException("The hub's Program returned before building its host.");
            }

            host = await built.Task;
        }
        finally
        {
            BuildGate.Release();
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => started.TrySetResult());
        var firstDone = await Task.WhenAny(started.Task, run).WaitAsync(TestTimeouts.Startup);
        if (firstDone == run)
        {
            await run;
            throw new InvalidOperationException("The hub stopped while starting:\n" + string.Join("\n", logs.Records));
        }

        var endpoints = host.Services.GetRequiredService<HubEndpoints>();
        return new HubHost(host, run, logs, endpoints.GrpcAddress!, new Uri(endpoints.Address!), database.DataDirectory);
    }

    /// <summary>The bootstrap administrator's credentials, from this hub's data directory.</summary>
    public BootstrapAdmin BootstrapAdmin() => global::HlmHub.TestSupport.BootstrapAdmin.Read(DataDirectory);

    /// <summary>POSTs a client-credentials token request (client_secret_basic) over HTTP/1.1.</summary>
    public async Task<HttpResponseMessage> RequestTokenAsync(string clientId, string secret, string? scope = null)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scope is not null)
        {
            form.Add(new("scope", scope));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token)
        {
            Content = new FormUrlEncodedContent(form),
        };
        var credentials = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return await _http.SendAsync(request).DefaultTimeout();
    }

    /// <summary>An access token for a secret client; fails the test when the endpoint refuses.</summary>
    public async Task<string> GetTokenAsync(string clientId, string secret, string? scope = null)
    {
        using var response = await RequestTokenAsync(clientId, secret, scope);
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"token request for {clientId} failed: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>An Admin API client calling with <paramref name="accessToken"/> (none: anonymous).</summary>
    public AdminClient Admin(string? accessToken) => new(new Contracts.V1.AdminService.AdminServiceClient(Channel), accessToken);

    /// <summary>An Admin API client for the bootstrap hub administrator.</summary>
    public async Task<AdminClient> HubAdminAsync()
    {
        var (clientId, secret) = BootstrapAdmin();
        return Admin(await GetTokenAsync(clientId, secret));
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        _http.Dispose();
        _host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await _run.WaitAsync(TestTimeouts.Startup);
        // Any error fails the test: a health round run while the start-up migrations create the database reads as
        // degraded (a warning), not as an error.
        var unexpected = _logs.Records.Where(record => record.Level >= LogLevel.Error && !_acceptedErrors.ContainsKey(record)).ToList();
        Assert.True(unexpected.Count == 0, "The hub logged errors:\n" + string.Join("\n", unexpected));
    }

    private static void RunEntryPoint(MethodInfo entryPoint, string[] arguments)
    {
        try
        {
            entryPoint.Invoke(null, [arguments]);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(exception.InnerException).Throw();
        }
    }

    /// <summary>Catches the host the Program builds, from Microsoft.Extensions.Hosting's "HostBuilt" event.</summary>
    /// <summary>
    /// Catches the hub's host as its Program builds it. "HostBuilt" is written on the thread that builds the host,
    /// before that thread starts it, so the test's log provider is added there: added once the test thread had the
    /// host, it missed what the first hosted services logged while the host was already starting.
    /// </summary>
    private sealed class HostingObserver(TaskCompletionSource<IHost> built, TestLoggerProvider logs, TimeProvider? clock) : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        private readonly List<IDisposable> _subscriptions = [];

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "Microsoft.Extensions.Hosting")
            {
                _subscriptions.Add(value.Subscribe(this));
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            // "HostBuilding" comes before the service provider is built (as WebApplicationFactory uses it): services
            // added here come after the Program's own.
            if (value.Key == "HostBuilding" && value.Value is IHostBuilder builder && clock is not null)
            {
                builder.ConfigureServices(services => services.AddSingleton(clock));
            }

            if (value.Key == "HostBuilt" && value.Value is IHost host)
            {
                host.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
                built.TrySetResult(host);
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
