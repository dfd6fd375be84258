using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using HlmHub.Bench;
using HlmHub.Bench.Redemptions;
using HlmHub.Contracts.V1;
using HlmHub.Storage;

// Usage: dotnet tools/HlmHub.Bench.Redemptions/bin/Release/net10.0/HlmHub.Bench.Redemptions.dll sqlite|postgres [options]
//   --redemptions N     per throughput mode (1 stream, and 4 streams sharing N), run in halves ordered 1-4-4-1, default 200000
//   --paced-rate R      events/s of the latency run, default 5000;  --paced-seconds S, default 10
//   --long N            redemptions of the memory run (the issue asks for 10000000), default 0 (skipped)
//   --window W          events in flight per stream, default 1000 (the hub's Redemptions:MaxInFlightPerStream default)
//   --batch B           redemptions per transaction of the batched reference, default 500 (the hub's Redemptions:MaxBatchSize default)
//   --households H      households synced into the club, default 1000
//   --warmup N          redemptions on 1 stream before anything is measured, default 60000
//   --hub 0             skip the hub (the references alone, to check them)
// PostgreSQL: the server named by HLMHUB_TEST_POSTGRES (tools/bench/redemptions.sh starts a throw-away one).
var options = BenchOptions.Parse(args);
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, @event) =>
{
    @event.Cancel = true;
    cancellation.Cancel();
};
var cancellationToken = cancellation.Token;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"# redemption benchmark: {options.Provider}, {Environment.ProcessorCount} CPU(s), .NET {Environment.Version}, load average {File.ReadAllText("/proc/loadavg").Trim()}"));

// 1. The hub: a real process on a fresh database, set up through its own APIs, a partner token from its token endpoint.
double hubSingle = double.NaN, hubFour = double.NaN;
if (options.Hub)
{
    await using var database = await BenchDatabase.CreateAsync(options.Provider, cancellationToken);
    var settings = new Dictionary<string, string?>(database.HubSettings)
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
    };
    await using var hub = HubServerProcess.Start(settings, database.DataDirectory);
    await hub.WaitReadyAsync(TimeSpan.FromSeconds(120), cancellationToken);
    using var channel = GrpcChannel.ForAddress(hub.GrpcAddress);
    var (adminId, adminSecret) = await hub.BootstrapAdminAsync(TimeSpan.FromSeconds(60), cancellationToken);
    var adminToken = await hub.GetTokenAsync(adminId, adminSecret, "hlmhub.admin", cancellationToken);
    var world = await PartnerWorld.CreateAsync(channel, hub.GetTokenAsync, adminToken, options.Households, PartnerWorld.TenPercentUncapped(), cancellationToken);
    var partnerToken = await hub.GetTokenAsync(world.PartnerClientId, world.PartnerClientSecret, PartnerWorld.RedemptionScope, cancellationToken);
    var load = new PartnerLoad(new RedemptionService.RedemptionServiceClient(channel), partnerToken, world, options.Window);
    Console.WriteLine($"hub pid {hub.ProcessId} on {hub.GrpcAddress}; offer {world.OfferId} (10 %, no cap, not co-funded); {world.MemberTokens.Count} households; window {options.Window}");

    // Long enough for .NET to finish compiling the hub's hot paths at full optimization: the group commit runs its
    // methods once per batch of up to 500, and tiered compilation promotes a method after 30 calls, then in the
    // background. With 20,000 (40 batches) the first 20,000 of the 1-stream run still took 100 ms per batch against
    // 70 ms afterwards, which the 1-stream figure then counted against the hub.
    await load.RunAsync(streams: 1, options.Warmup, cancellationToken);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up done ({options.Warmup:N0} redemptions on 1 stream)"));

    // One stream and four, N redemptions each, in halves ordered 1-4-4-1: each run inserts into a larger database
    // than the one before, so running all of one after all of the other would charge the growth to the second.
    var single = TimeSpan.Zero;
    var four = TimeSpan.Zero;
    var singleCpu = TimeSpan.Zero;
    var fourCpu = TimeSpan.Zero;
    foreach (var (streams, size) in new[] { (1, options.Redemptions / 2), (4, options.Redemptions / 2), (4, options.Redemptions - options.Redemptions / 2), (1, options.Redemptions - options.Redemptions / 2) })
    {
        var cpu = hub.CpuTime();
        var elapsed = await load.RunAsync(streams, size, cancellationToken);
        if (streams == 1)
        {
            single += elapsed;
            singleCpu += hub.CpuTime() - cpu;
        }
        else
        {
            four += elapsed;
            fourCpu += hub.CpuTime() - cpu;
        }
    }

    hubSingle = options.Redemptions / single.TotalSeconds;
    hubFour = options.Redemptions / four.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"hub, 1 stream : {options.Redemptions:N0} redemptions in {single.TotalSeconds:F2} s = {hubSingle:N0}/s, hub CPU {singleCpu.TotalMicroseconds / options.Redemptions:F0} us/redemption"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"hub, 4 streams: {options.Redemptions:N0} redemptions in {four.TotalSeconds:F2} s = {hubFour:N0}/s ({hubFour / hubSingle:F2}x one stream), hub CPU {fourCpu.TotalMicroseconds / options.Redemptions:F0} us/redemption"));

    var latencies = await load.RunPacedAsync(options.PacedRate, options.PacedSeconds, cancellationToken);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"hub, paced at {options.PacedRate:N0}/s for {options.PacedSeconds} s on 1 stream ({latencies.Count:N0} events, latency from each event's scheduled send time): " +
        $"p50 {Percentile(latencies, 0.50):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, p99.9 {Percentile(latencies, 0.999):F1} ms, max {latencies[^1]:F1} ms"));

    if (options.Long > 0)
    {
        var samples = new List<(long Done, long Rss)>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                samples.Add((load.Accepted, hub.ResidentBytes()));
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), sampling.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        var completed = 0L;
        try
        {
            // In chunks so that a Ctrl-C (or the time budget) still reports what ran.
            for (var chunk = 0L; chunk < options.Long && !cancellationToken.IsCancellationRequested; chunk += 1_000_000)
            {
                var size = (int)Math.Min(1_000_000, options.Long - chunk);
                await load.RunAsync(streams: 1, size, cancellationToken);
                completed += size;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  memory run: {completed:N0} redemptions, {completed / clock.Elapsed.TotalSeconds:N0}/s, hub RSS {hub.ResidentBytes() / 1_048_576} MB"));
            }
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("  memory run stopped (Ctrl-C)");
        }

        await sampling.CancelAsync();
        await sampler;
        var tenth = Math.Max(1, samples.Count / 10);
        var series = string.Join(", ", samples.Where((_, index) => index % tenth == 0 || index == samples.Count - 1)
            .Select(sample => string.Create(CultureInfo.InvariantCulture, $"{sample.Done / 1000:N0}k: {sample.Rss / 1_048_576} MB")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hub RSS over {completed:N0} redemptions in {clock.Elapsed.TotalMinutes:F1} min (sampled each second): {series}; max {samples.Max(sample => sample.Rss) / 1_048_576} MB"));
    }

    Console.WriteLine($"acknowledgements: {load.Accepted:N0} accepted, {load.Other:N0} other (must be 0)");
    if (load.Other > 0)
    {
        Console.WriteLine("first other acknowledgement: " + load.FirstOther);
        Environment.ExitCode = 1;
    }
}

// 2. The storage references on a database of their own, migrated by the hub's migrator, the hub stopped.
await using (var database = await BenchDatabase.CreateAsync(options.Provider, cancellationToken))
{
    var reference = await StorageReference.CreateAsync(database, options.Households, cancellationToken);
    Console.WriteLine($"references: {database.Provider}, {await database.DurabilitySettingsAsync(cancellationToken)}");
    var batched = await reference.RunAsync(options.Redemptions, options.Batch, options.StatementRows, cancellationToken);
    var singleRow = await reference.RunAsync(options.Redemptions, options.Batch, 1, cancellationToken);
    var perRowCount = Math.Max(1_000, options.Redemptions / 10);
    var perRow = await reference.RunAsync(perRowCount, 1, 1, cancellationToken);
    var ceiling = options.Redemptions / batched.TotalSeconds;
    var naive = perRowCount / perRow.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bare loop, {options.Batch} redemptions per transaction, {options.StatementRows} per statement (ceiling): {options.Redemptions:N0} in {batched.TotalSeconds:F2} s = {ceiling:N0}/s"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bare loop, {options.Batch} redemptions per transaction, one row per statement: {options.Redemptions:N0} in {singleRow.TotalSeconds:F2} s = {options.Redemptions / singleRow.TotalSeconds:N0}/s"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bare loop, one transaction per redemption (naive): {perRowCount:N0} in {perRow.TotalSeconds:F2} s = {naive:N0}/s"));
    if (options.Hub)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratios: hub 1 stream / ceiling = {hubSingle / ceiling:P0}, hub 1 stream / per-row = {hubSingle / naive:F2}x, hub 4 streams / ceiling = {hubFour / ceiling:P0}"));
    }
}

Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
return;

static double Percentile(List<double> sorted, double quantile) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(quantile * sorted.Count) - 1)];

/// <summary>The command line.</summary>
internal sealed record BenchOptions(StorageProvider Provider, int Redemptions, int PacedRate, int PacedSeconds, long Long, int Window, int Batch, int StatementRows, int Households, bool Hub, int Warmup)
{
    public static BenchOptions Parse(string[] args)
    {
        var provider = args.Length > 0 && args[0] == "postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite;
        var values = new Dictionary<string, long>
        {
            ["--redemptions"] = 200_000, ["--paced-rate"] = 5_000, ["--paced-seconds"] = 10, ["--long"] = 0, ["--window"] = 1_000, ["--batch"] = 500, ["--statement-rows"] = 14, ["--households"] = 1_000, ["--hub"] = 1, ["--warmup"] = 60_000,
        };
        for (var index = 1; index < args.Length; index += 2)
        {
            if (!values.ContainsKey(args[index]) || index + 1 >= args.Length)
            {
                throw new ArgumentException($"Unknown option or missing value: {args[index]}");
            }

            values[args[index]] = long.Parse(args[index + 1], CultureInfo.InvariantCulture);
        }

        return new BenchOptions(provider, (int)values["--redemptions"], (int)values["--paced-rate"], (int)values["--paced-seconds"], values["--long"],
            (int)values["--window"], (int)values["--batch"], (int)values["--statement-rows"], (int)values["--households"], values["--hub"] != 0, (int)values["--warmup"]);
    }
}

/// <summary>
/// The partner's load: events for the world's offer (a purchase of 10.00-59.99 EUR, the 10 % discount the hub must
/// compute, a household taken in turn), each with a new event id, on one or more concurrent streams.
/// </summary>
internal sealed class PartnerLoad(RedemptionService.RedemptionServiceClient client, string token, PartnerWorld world, int window)
{
    private long _sequence;
    private long _accepted;
    private long _other;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Other => Interlocked.Read(ref _other);

    public string? FirstOther { get; private set; }

    /// <summary>Sends <paramref name="total"/> events spread over <paramref name="streams"/> streams as fast as the window allows; returns the elapsed time.</summary>
    public async Task<TimeSpan> RunAsync(int streams, int total, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, streams).Select(stream => Task.Run(async () =>
        {
            await using var call = new RedemptionStream(client, token, window, Count, cancellationToken);
            for (var sent = 0; sent < total / streams + (stream < total % streams ? 1 : 0); sent++)
            {
                await call.SendAsync(Next());
            }

            await call.CompleteAsync();
        }, cancellationToken)));
        return clock.Elapsed;
    }

    /// <summary>
    /// Sends at <paramref name="rate"/> events per second for <paramref name="seconds"/> on one stream and returns each
    /// acknowledgement's latency in ms, sorted, measured from the event's scheduled send time (so a sender held back by
    /// a slow hub does not hide the delay).
    /// </summary>
    public async Task<List<double>> RunPacedAsync(int rate, int seconds, CancellationToken cancellationToken)
    {
        var latencies = new List<double>(rate * seconds);
        var gate = new Lock();
        await using (var call = new RedemptionStream(client, token, window, acked =>
        {
            Count(acked);
            lock (gate)
            {
                latencies.Add(Stopwatch.GetElapsedTime(acked.SentTimestamp, acked.AckedTimestamp).TotalMilliseconds);
            }
        }, cancellationToken))
        {
            var start = Stopwatch.GetTimestamp();
            var total = rate * seconds;
            for (var index = 0; index < total; index++)
            {
                var scheduled = start + (long)(index * (double)Stopwatch.Frequency / rate);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), scheduled);
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, cancellationToken);
                }

                await call.SendAsync(Next(), scheduled);
            }

            await call.CompleteAsync();
        }

        latencies.Sort();
        return latencies;
    }

    private RedemptionEvent Next()
    {
        var sequence = Interlocked.Increment(ref _sequence);
        var purchase = 1_000 + (sequence * 7_919 % 5_000);
        return new RedemptionEvent
        {
            EventId = "bench-" + sequence.ToString(CultureInfo.InvariantCulture),
            OfferId = world.OfferId,
            MemberToken = world.MemberTokens[(int)(sequence % world.MemberTokens.Count)],
            OccurredAt = Timestamp.FromDateTimeOffset(TimeProvider.System.GetUtcNow()),
            PurchaseCents = purchase,
            DiscountCents = purchase / 10,
        };
    }

    private void Count(AckedEvent acked)
    {
        if (acked.Ack.Outcome == RedemptionOutcome.Accepted && acked.Ack.ComputedDiscountCents == acked.Event.DiscountCents)
        {
            Interlocked.Increment(ref _accepted);
        }
        else if (Interlocked.Increment(ref _other) == 1)
        {
            FirstOther = acked.Ack.ToString();
        }
    }
}
