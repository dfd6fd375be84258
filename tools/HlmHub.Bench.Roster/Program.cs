using System.Diagnostics;
using System.Globalization;
using HlmHub.Bench;
using HlmHub.Domain;
using HlmHub.Domain.Roster;
using HlmHub.Observability;
using HlmHub.Server.Features.Roster;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

// Usage: dotnet run -c Release --project tools/HlmHub.Bench.Roster -- sqlite|postgres [households] [delta] [items per commit]
// (the last: Roster:MaxItemsPerCommit, default the hub's own)
// PostgreSQL: the server named by HLMHUB_TEST_POSTGRES (tools/bench/roster.sh starts one); a database is created and dropped.
var provider = args.Length > 0 && args[0] == "postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite;
var households = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var deltaSize = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10_000;
const int BatchSize = 1_000;

// The engine and the ceiling each write into a fresh database of their own, so neither runs on the other's rows.
await using var database = await BenchDatabase.CreateAsync(provider);
await using var ceilingDatabase = await BenchDatabase.CreateAsync(provider);
await using var engineServices = await StartStorageAsync(database, "bench-engine", args);
await using var ceilingServices = await StartStorageAsync(ceilingDatabase, "bench-ceiling", args);
var sync = engineServices.GetRequiredService<RosterSync>();
// Items per transaction: the engine's writer commits at this many, as for a stream whose next message is always
// already there; the ceiling commits alike.
var itemsPerCommit = engineServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<RosterOptions>>().Value.MaxItemsPerCommit;
var tokens = engineServices.GetRequiredService<MemberTokenGenerator>();

Console.WriteLine($"# roster benchmark: {provider}, {households:N0} households, delta {deltaSize:N0}, batches of {BatchSize}, {itemsPerCommit:N0} items per transaction, {Environment.ProcessorCount} cores");
Console.WriteLine($"# durability: {await database.DurabilitySettingsAsync(CancellationToken.None)}");

// 1. The engine: a full snapshot, then a delta, exactly as RosterService drives it.
var memory = PeakMemory.Start();
var full = Stopwatch.StartNew();
var session = await sync.OpenAsync("bench-engine", Guid.NewGuid(), RosterSessionKind.FullSnapshot, CancellationToken.None);
await using (var writer = sync.BeginWriting(session.Id, "bench-engine"))
{
    for (var first = 1; first <= households; first += BatchSize)
    {
        var batch = Enumerable.Range(first, Math.Min(BatchSize, households - first + 1))
            .Select(index => new RosterChange(index, RosterChangeKind.Upsert, Reference(index), 1, 1 + index % 7, index % 3 == 0, ["club-bench-engine"]))
            .ToList();
        await writer.ApplyAsync(batch, CancellationToken.None);
    }

    await writer.CommitAsync(CancellationToken.None);
}

var completed = await sync.CompleteAsync(session.Id, "bench-engine", CancellationToken.None);
full.Stop();
var fullMemory = memory.Stop();

// BENCH_CHECKPOINT_BEFORE_DELTA=1: the delta as it runs hours after a full sync, once the database has written the
// full sync's pages out (a checkpoint), instead of right after it, while it still writes them out (docs/benchmarks.md).
var checkpointBeforeDelta = Environment.GetEnvironmentVariable("BENCH_CHECKPOINT_BEFORE_DELTA") == "1";
if (checkpointBeforeDelta)
{
    await using var connection = database.OpenReferenceConnection();
    await connection.OpenAsync(CancellationToken.None);
    await using var command = connection.CreateCommand();
    command.CommandText = provider == StorageProvider.Sqlite ? "PRAGMA wal_checkpoint(TRUNCATE);" : "CHECKPOINT;";
    await command.ExecuteNonQueryAsync(CancellationToken.None);
}

memory = PeakMemory.Start();
var delta = Stopwatch.StartNew();
var deltaSession = await sync.OpenAsync("bench-engine", Guid.NewGuid(), RosterSessionKind.Delta, CancellationToken.None);
var step = Math.Max(1, households / Math.Max(1, deltaSize));
var changed = Enumerable.Range(0, deltaSize).Select(index => 1 + (index * step % households)).ToList();
await using (var writer = sync.BeginWriting(deltaSession.Id, "bench-engine"))
{
    for (var first = 0; first < changed.Count; first += BatchSize)
    {
        var batch = changed.Skip(first).Take(BatchSize)
            .Select((index, offset) => new RosterChange(first + offset + 1, RosterChangeKind.Upsert, Reference(index), 2, 1 + (index + 1) % 7, index % 3 == 0, ["club-bench-engine"]))
            .ToList();
        await writer.ApplyAsync(batch, CancellationToken.None);
    }

    await writer.CommitAsync(CancellationToken.None);
}

var deltaCompleted = await sync.CompleteAsync(deltaSession.Id, "bench-engine", CancellationToken.None);
delta.Stop();
var deltaMemory = memory.Stop();

// 2. The ceiling: the same rows (a household and its membership each, the same member token computation) inserted by a
// bare loop of multi-row INSERTs, as many items per transaction as the engine, with no reads and no change tracking.
memory = PeakMemory.Start();
var ceiling = Stopwatch.StartNew();
await using (var connection = ceilingDatabase.OpenReferenceConnection())
{
    await connection.OpenAsync();
    System.Data.Common.DbTransaction? transaction = null;
    var pending = 0;
    for (var first = 1; first <= households; first += BatchSize)
    {
        var count = Math.Min(BatchSize, households - first + 1);
        transaction ??= await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var ids = new List<Guid>(count);
        var householdRows = new List<string>(count);
        for (var index = first; index < first + count; index++)
        {
            var id = Guid.CreateVersion7();
            ids.Add(id);
            var token = tokens.Compute("bench-ceiling", Reference(index));
            householdRows.Add(string.Create(CultureInfo.InvariantCulture,
                $"({ceilingDatabase.GuidLiteral(id)}, 'bench-ceiling', '{Reference(index)}', '{token}', {1 + index % 7}, {ceilingDatabase.Bool(index % 3 == 0)}, 'Active', 1, 0, 0, 1, {ceilingDatabase.GuidLiteral(Guid.Empty)})"));
        }

        command.CommandText =
            "INSERT INTO \"Households\" (\"Id\", \"LandlordId\", \"LandlordReference\", \"MemberToken\", \"Rooms\", \"InQpv\", \"Status\", \"Version\", \"UpdatedAt\", \"StatusChangedAt\", \"SourceVersion\", \"LastSessionId\") VALUES " +
            string.Join(",", householdRows) + ";" +
            "INSERT INTO \"Memberships\" (\"ClubId\", \"HouseholdId\", \"JoinedAt\") VALUES " +
            string.Join(",", ids.Select(id => $"('club-bench-ceiling', {ceilingDatabase.GuidLiteral(id)}, 0)")) + ";";
        await command.ExecuteNonQueryAsync();
        pending += count;
        if (pending >= itemsPerCommit || first + count > households)
        {
            await transaction.CommitAsync();
            await transaction.DisposeAsync();
            transaction = null;
            pending = 0;
        }
    }
}

ceiling.Stop();
var ceilingMemory = memory.Stop();

Console.WriteLine("| provider | run | rows | seconds | rows/s | peak managed MB | peak working set MB |");
Console.WriteLine("|---|---|---|---|---|---|---|");
Row("full sync (engine)", completed.Created, full, fullMemory);
Row(checkpointBeforeDelta ? "delta after a checkpoint (engine)" : "delta (engine)", deltaCompleted.Updated, delta, deltaMemory);
Row("bare insert loop (ceiling)", households, ceiling, ceilingMemory);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"full sync at {ceiling.Elapsed.TotalSeconds / full.Elapsed.TotalSeconds:P0} of the ceiling; created {completed.Created:N0}, delta updated {deltaCompleted.Updated:N0}"));
return;

// The hub's storage on a fresh database, migrated, with the landlord and its club the run writes for.
static async Task<ServiceProvider> StartStorageAsync(BenchDatabase database, string landlordId, string[] args)
{
    var settings = database.HubSettings;
    settings["MemberTokens:Key"] = Convert.ToBase64String(new byte[32]);
    settings["Roster:MaxItemsPerSession"] = "5000000";
    if (args.Length > 3)
    {
        // Only when given: a key bound to null would set the limit to 0 (a commit per batch), not leave the default.
        settings["Roster:MaxItemsPerCommit"] = args[3];
    }

    var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    var services = new ServiceCollection().AddHlmHubStorage(configuration).AddSingleton(TimeProvider.System).AddLogging();
    services.AddOptions<RosterOptions>().Bind(configuration.GetSection(RosterOptions.SectionName));
    services.AddSingleton<RosterSync>();
    services.AddHubMetrics();
    var provider = services.BuildServiceProvider();
    await provider.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None);
    var now = TimeProvider.System.GetUtcNow();
    await using var db = await provider.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
    var landlord = Landlord.Create(landlordId, landlordId, BenchDatabase.Siren(landlordId == "bench-engine" ? 1 : 2), now);
    db.AddRange(landlord, Club.Create("club-" + landlordId, "Club", landlord.Id, ClubKind.TenantClub, null, now));
    await db.SaveChangesAsync();
    return provider;
}

void Row(string run, long rows, Stopwatch time, (long Managed, long WorkingSet) peak) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {provider} | {run} | {rows:N0} | {time.Elapsed.TotalSeconds:F1} | {rows / time.Elapsed.TotalSeconds:N0} | {peak.Managed / 1_048_576} | {peak.WorkingSet / 1_048_576} |"));

static string Reference(int index) => "REF-" + index.ToString("D8", CultureInfo.InvariantCulture);

/// <summary>Samples the process's managed heap and working set every 50 ms and keeps the peaks.</summary>
internal sealed class PeakMemory
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _managed;
    private long _workingSet;

    private PeakMemory()
    {
        GC.Collect();
        _sampler = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _managed = Math.Max(_managed, GC.GetTotalMemory(false));
                _workingSet = Math.Max(_workingSet, Environment.WorkingSet);
                try
                {
                    await Task.Delay(50, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    public static PeakMemory Start() => new();

    public (long Managed, long WorkingSet) Stop()
    {
        _stop.Cancel();
        _sampler.Wait();
        return (_managed, _workingSet);
    }
}
