using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// One real hub per test class (its own Program, SQLite, both Kestrel endpoints on loopback) with response
/// compression on, and an access token for its bootstrap hub administrator obtained over HTTP/1.1.
/// </summary>
public sealed class HubServerFixture : IAsyncLifetime
{
    /// <summary>Anonymous calls one address may hold open in these tests: above the raw tests' own concurrency.</summary>
    public const int MaxAnonymousCalls = 64;

    /// <summary>
    /// Calls one client may start per second: the fuzz sends thousands from the administrator's token as fast as the
    /// hub answers, which the default rate would refuse in part on a fast machine. The rate itself has its own tests
    /// (<c>CallerRateLimitTests</c>).
    /// </summary>
    public const int CallsPerSecondPerCaller = 1_000_000;

    private TestDatabase? _database;
    private HubHost? _hub;

    internal HubHost Hub => _hub ?? throw new InvalidOperationException("The hub has not started.");

    /// <summary>A hub administrator's access token.</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>The hub's error logs so far (a client's garbage must never produce one).</summary>
    internal IReadOnlyList<LogRecord> Errors => [.. Hub.Logs.Where(record => record.Level >= LogLevel.Error)];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        _hub = await HubHost.StartAsync(_database, "--Hub:ResponseCompression=gzip", $"--Hub:MaxAnonymousCallsPerAddress={MaxAnonymousCalls}",
            $"--Hub:CallsPerSecondPerCaller={CallsPerSecondPerCaller}", $"--Hub:CallBurstPerCaller={CallsPerSecondPerCaller}");
        var (clientId, secret) = _hub.BootstrapAdmin();
        AdminToken = await _hub.GetTokenAsync(clientId, secret, "hlmhub.admin");
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_hub is not null)
            {
                await _hub.DisposeAsync();
            }
        }
        finally
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }
        }
    }
}
