using HlmHub.Server.Features.Scheduling;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>
/// The jobs' services in-process, registered as the hub registers them (<see cref="HubScheduling.AddHubScheduling"/>
/// with the scheduler itself off, and OpenIddict's core as the identity layer adds it), over a migrated database,
/// with a clock the test controls.
/// </summary>
internal sealed class JobServices : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private readonly bool _ownsDatabase;

    private JobServices(EmptyDatabase database, bool ownsDatabase, ServiceProvider services, FixedClock clock)
    {
        Database = database;
        _ownsDatabase = ownsDatabase;
        _services = services;
        Clock = clock;
    }

    public EmptyDatabase Database { get; }

    public FixedClock Clock { get; }

    public IServiceProvider Services => _services;

    public IDbContextFactory<HlmHubDbContext> Db => _services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();

    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Over a new database of <paramref name="provider"/>, dropped on dispose.</summary>
    public static async Task<JobServices> CreateAsync(StorageProvider provider, DateTimeOffset now) =>
        await CreateAsync(await EmptyDatabase.CreateAsync(provider, TestTimeouts.Token()), ownsDatabase: true, now);

    /// <summary>Over a database a test owns (and may share with hub processes), left in place on dispose.</summary>
    public static Task<JobServices> OverAsync(EmptyDatabase database, DateTimeOffset now) => CreateAsync(database, ownsDatabase: false, now);

    private static async Task<JobServices> CreateAsync(EmptyDatabase database, bool ownsDatabase, DateTimeOffset now)
    {
        var settings = new Dictionary<string, string?>(database.Settings) { ["Scheduling:Enabled"] = "false" };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var clock = new FixedClock(now);
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(clock)
            .AddHlmHubStorage(configuration);
        services.AddOpenIddict().AddCore(core => core.UseEntityFrameworkCore().UseDbContext<HlmHubDbContext>());
        services.AddHubScheduling(configuration);
        var built = services.BuildServiceProvider();
        await built.GetRequiredService<IDatabaseMigrator>().MigrateAsync(TestTimeouts.Token());
        return new JobServices(database, ownsDatabase, built, clock);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        if (_ownsDatabase)
        {
            await Database.DisposeAsync();
        }
    }
}
