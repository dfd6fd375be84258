using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Scheduling.Tests.Infrastructure;
using HlmHub.Server.Features.Scheduling;
using HlmHub.Storage;

namespace HlmHub.Scheduling.Tests;

/// <summary>
/// Real hub processes running Quartz on their own database: a job fired through Quartz runs and books its result; a
/// node killed (SIGKILL) mid-job has the job run again and complete, on restart or, in a cluster, on the other node;
/// a firing runs once across a cluster.
/// </summary>
public sealed class SchedulerProcessTests
{
    private const string FeeAccrual = FeeAccrualJob.JobName;

    private const string Reconciliation = MonthlyReconciliationJob.JobName;

    // The statement with which a reconciliation run locks its club's row before recording itself (RowLocks.LockClubAsync):
    // what a held club row makes the run wait on.
    private const string RecordingLock = "UPDATE \"Clubs\"";

    // Contracts that started 400 days before today (Paris): two yearly fees each so far, on their first day and a year
    // later, whatever day the tests run (the hub processes run on the real clock).
    private static readonly DateOnly ContractStart = Period.DayOf(TimeProvider.System.GetUtcNow()).AddDays(-400);

    private const int FeesPerContract = 2;

    [Fact]
    public async Task FeeAccrualFiredThroughQuartz_OnASqliteNode_BooksEveryFee_AndTheSchedulerIsHealthy()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Sqlite, TestTimeouts.Token());
        var world = new FeeWorld(contracts: 3, start: ContractStart);
        var settings = await PrepareAsync(database, world);
        await using var node = HubNode.Start("solo", settings);
        await node.WaitStartedAsync();

        await QuartzClient.TriggerAsync(database, FeeAccrual);
        await node.WaitForAsync(output => node.Runs(FeeAccrual).Finished == 1, "to finish the fee accrual");

        Assert.Equal((1, 0, 1), node.Runs(FeeAccrual));
        Assert.Contains($"{world.Contracts.Count * FeesPerContract} fee(s) booked", node.Output, StringComparison.Ordinal);
        Assert.Equal(await ExpectedAccrualsAsync(world), await AccrualsOfAsync(database));
        using var http = new HttpClient();
        var health = await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/healthz").DefaultTimeout();
        Assert.Equal("Healthy", health);
    }

    [Fact]
    public async Task MonthlyReconciliationFiredThroughQuartz_RecordsLastMonthsRunAsTheScheduler_AndASecondFiringRecordsNoOther()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Sqlite, TestTimeouts.Token());
        var world = new FeeWorld(contracts: 2, start: ContractStart);
        var settings = await PrepareAsync(database, world);
        await using var node = HubNode.Start("solo", settings);
        await node.WaitStartedAsync();
        const string Job = MonthlyReconciliationJob.JobName;
        var lastMonthBefore = LastMonth();

        await QuartzClient.TriggerAsync(database, Job);
        await node.WaitForAsync(output => node.Runs(Job).Finished == 1, "to finish the reconciliation");
        await QuartzClient.TriggerAsync(database, Job);
        await node.WaitForAsync(output => node.Runs(Job).Finished == 2, "to finish the second reconciliation");

        Assert.Contains("1 club(s): 1 run(s) recorded", node.Output, StringComparison.Ordinal);
        Assert.Contains("1 club(s): 0 run(s) recorded (0 discrepancies), 1 already up to date", node.Output, StringComparison.Ordinal);
        AssertRuns([world], lastMonthBefore, await RunsOfAsync(database));
    }

    [Fact]
    public async Task JobKilledMidRun_RunsAgainWhenItsNodeRestarts_AndCompletes()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, TestTimeouts.Token());
        var world = new FeeWorld(contracts: 5, start: ContractStart);
        var settings = await PrepareAsync(database, world, holdPartner: 2);
        await using var node = HubNode.Start("node-a", settings);
        await node.WaitStartedAsync();

        await using (var hold = await PostgresHold.LockAccountAsync(database.ConnectionString, HeldAccount(world, 2)))
        {
            await QuartzClient.TriggerAsync(database, FeeAccrual);
            await hold.WaitUntilSomeoneWaitsAsync();
            var partial = (await AccrualsOfAsync(database)).Count;
            Assert.InRange(partial, 1, 9);
            await node.KillAsync();
        }

        Assert.Equal((1, 0, 0), node.Runs(FeeAccrual));
        // The same node id again: its first check-in finds its own firing unfinished and recovers it.
        await using var restarted = HubNode.Start("node-a", settings);
        await restarted.WaitForAsync(output => restarted.Runs(FeeAccrual).Finished == 1, "to recover and finish the fee accrual", TestTimeouts.Startup);

        Assert.Equal((1, 1, 1), restarted.Runs(FeeAccrual));
        Assert.Equal(await ExpectedAccrualsAsync(world), await AccrualsOfAsync(database));
    }

    [Fact]
    public async Task TwoClusteredNodes_RunAFiringOnce()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, TestTimeouts.Token());
        var world = new FeeWorld(contracts: 4, start: ContractStart);
        var settings = await PrepareAsync(database, world);
        await using var cluster = await TwoNodes.StartAsync(database, settings);

        await cluster.FireAndExpectOneRunAsync(database, FeeAccrual);

        Assert.Equal(await ExpectedAccrualsAsync(world), await AccrualsOfAsync(database));
    }

    [Fact]
    public async Task ClusteredNodeKilledMidJob_TheOtherNodeFinishesIt_AsAnUndisturbedRunWould()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, TestTimeouts.Token());
        var world = new FeeWorld(contracts: 5, start: ContractStart);
        var settings = await PrepareAsync(database, world, holdPartner: 2);
        await using var cluster = await TwoNodes.StartAsync(database, settings);
        var (first, second) = (cluster.First, cluster.Second);

        HubNode runner, survivor;
        await using (var hold = await PostgresHold.LockAccountAsync(database.ConnectionString, HeldAccount(world, 2)))
        {
            await QuartzClient.TriggerAsync(database, FeeAccrual);
            await hold.WaitUntilSomeoneWaitsAsync();
            (runner, survivor) = first.Runs(FeeAccrual).Started == 1 ? (first, second) : (second, first);
            Assert.Equal((1, 0, 0), runner.Runs(FeeAccrual));
            Assert.Equal((0, 0, 0), survivor.Runs(FeeAccrual));
            Assert.InRange((await AccrualsOfAsync(database)).Count, 1, 9);
            await runner.KillAsync();
            await PostgresHold.BackdateCheckinAsync(database.ConnectionString, runner.Name);
        }

        await survivor.WaitForAsync(output => survivor.Runs(FeeAccrual).Finished == 1, "to recover and finish the fee accrual");

        Assert.Equal((1, 1, 1), survivor.Runs(FeeAccrual));
        Assert.Equal((1, 0, 0), runner.Runs(FeeAccrual));
        Assert.Equal(await ExpectedAccrualsAsync(world), await AccrualsOfAsync(database));
    }

    [Fact]
    public async Task TwoClusteredNodes_FireTheMonthlyReconciliationOnce_RecordingOneRunPerClub()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, TestTimeouts.Token());
        FeeWorld[] worlds = [new(contracts: 2, start: ContractStart), new(contracts: 2, start: ContractStart)];
        var settings = await PrepareAsync(database, worlds);
        await using var cluster = await TwoNodes.StartAsync(database, settings);
        var lastMonthBefore = LastMonth();

        await cluster.FireAndExpectOneRunAsync(database, Reconciliation);

        Assert.Contains("2 club(s): 2 run(s) recorded", cluster.First.Output + cluster.Second.Output, StringComparison.Ordinal);
        AssertRuns(worlds, lastMonthBefore, await RunsOfAsync(database));
    }

    [Fact]
    public async Task ClusteredNodeKilledMidReconciliation_TheOtherNodeFinishesIt_WithOneRecordedRunPerClub()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, TestTimeouts.Token());
        FeeWorld[] worlds = [new(contracts: 2, start: ContractStart), new(contracts: 2, start: ContractStart)];
        // The job reconciles the clubs in id order (random hex suffixes: ordinal and the database's order agree).
        var clubs = worlds.Select(world => world.ClubId).Order(StringComparer.Ordinal).ToList();
        var settings = await PrepareAsync(database, worlds);
        await using var cluster = await TwoNodes.StartAsync(database, settings);
        var (first, second) = (cluster.First, cluster.Second);
        var lastMonthBefore = LastMonth();

        HubNode runner, survivor;
        await using (var hold = await PostgresHold.LockClubAsync(database.ConnectionString, clubs[1]))
        {
            await QuartzClient.TriggerAsync(database, Reconciliation);
            // The second club's run is computed and waits to record itself (on its lock of the club's row); the first
            // club's is recorded.
            await hold.WaitUntilSomeoneWaitsAsync(RecordingLock);
            (runner, survivor) = first.Runs(Reconciliation).Started == 1 ? (first, second) : (second, first);
            // Killed at once: the waiting statement gives up after its command time-out (30 s), which would end the job.
            await runner.KillAsync();
            await PostgresHold.BackdateCheckinAsync(database.ConnectionString, runner.Name);
            Assert.Equal((1, 0, 0), runner.Runs(Reconciliation));
            Assert.Equal((0, 0, 0), survivor.Runs(Reconciliation));
            Assert.Equal([clubs[0]], (await RunsOfAsync(database)).Select(run => run.ClubId));
        }

        await survivor.WaitForAsync(output => survivor.Runs(Reconciliation).Finished == 1, "to recover and finish the reconciliation");

        Assert.Equal((1, 1, 1), survivor.Runs(Reconciliation));
        Assert.Equal((1, 0, 0), runner.Runs(Reconciliation));
        // The recovered firing skips the club already reconciled and records the other; the killed run left nothing.
        Assert.Contains("1 run(s) recorded", survivor.Output, StringComparison.Ordinal);
        Assert.Contains("1 already up to date", survivor.Output, StringComparison.Ordinal);
        AssertRuns(worlds, lastMonthBefore, await RunsOfAsync(database));
    }

    [Fact]
    public async Task MonthlyReconciliation_OneClubsRunFails_TheOtherClubIsStillReconciled_AndTheNextFiringReconcilesTheFailedOne()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, TestTimeouts.Token());
        FeeWorld[] worlds = [new(contracts: 1, start: ContractStart), new(contracts: 1, start: ContractStart)];
        var clubs = worlds.Select(world => world.ClubId).Order(StringComparer.Ordinal).ToList();
        var settings = await PrepareAsync(database, worlds);
        await using var node = HubNode.Start("solo", settings);
        await node.WaitStartedAsync();
        var lastMonthBefore = LastMonth();

        // The first club's run waits to record itself on the held club row, and is cancelled there: it fails.
        await using (var hold = await PostgresHold.LockClubAsync(database.ConnectionString, clubs[0]))
        {
            await QuartzClient.TriggerAsync(database, Reconciliation);
            await hold.WaitUntilSomeoneWaitsAsync(RecordingLock);
            await hold.CancelWaitersAsync();
            await node.WaitForAsync(output => output.Contains($"1 failed: {clubs[0]}", StringComparison.Ordinal), "to report the failed club");
        }

        Assert.Contains($"The monthly reconciliation of club {clubs[0]} for ", node.Output, StringComparison.Ordinal);
        Assert.Matches(@"1 run\(s\) recorded \(\d+ discrepancies\), 0 already up to date, 1 failed: ", node.Output);
        Assert.Equal((1, 0, 0), node.Runs(Reconciliation));
        Assert.Equal([clubs[1]], (await RunsOfAsync(database)).Select(run => run.ClubId));

        await QuartzClient.TriggerAsync(database, Reconciliation);
        await node.WaitForAsync(output => node.Runs(Reconciliation).Finished == 1, "to finish the second firing");

        Assert.Matches(@"1 run\(s\) recorded \(\d+ discrepancies\), 1 already up to date\.", node.Output);
        AssertRuns(worlds, lastMonthBefore, await RunsOfAsync(database));
    }

    /// <summary>
    /// Migrates the database as an operator would (<c>--migrate</c>), adds the world (and the held partner's
    /// receivable account, so a test can lock it), and returns the nodes' settings: a 1 s check-in and a 2 s
    /// threshold (as Quartz's own cluster tests), and cron triggers that never fire during a test.
    /// </summary>
    private static async Task<Dictionary<string, string?>> PrepareAsync(EmptyDatabase database, FeeWorld world, int? holdPartner = null)
    {
        var settings = await PrepareAsync(database, [world]);
        if (holdPartner is { } index)
        {
            await using var access = await JobServices.OverAsync(database, TimeProvider.System.GetUtcNow());
            await using var db = await access.Db.CreateDbContextAsync();
            db.LedgerAccounts.Add(LedgerAccount.Create(world.ClubId, AccountKind.FeesReceivable, world.Partners[index].Id));
            await db.SaveChangesAsync();
        }

        return settings;
    }

    /// <summary>The same, for several worlds (one club each) in one database.</summary>
    private static async Task<Dictionary<string, string?>> PrepareAsync(EmptyDatabase database, IReadOnlyList<FeeWorld> worlds)
    {
        var settings = new Dictionary<string, string?>(database.Settings)
        {
            ["Scheduling:CheckinInterval"] = "00:00:01",
            ["Scheduling:CheckinMisfireThreshold"] = "00:00:02",
            // The tests store one-off firings from another process; an idle node finds them within this.
            ["Scheduling:IdleWaitTime"] = "00:00:01",
            ["Scheduling:FeeAccrualCron"] = Never,
            ["Scheduling:OverdueFeesCron"] = Never,
            ["Scheduling:PruningCron"] = Never,
            ["Scheduling:ReconciliationCron"] = Never,
            // The monthly reconciliation looks at last month only, as these tests are about where and how often it
            // runs (MonthlyReconciliationTests cover the months it chooses).
            ["Reconciliation:CatchUpMonths"] = "1",
        };
        await HubProcess.MigrateAsync(settings);
        await using var access = await JobServices.OverAsync(database, TimeProvider.System.GetUtcNow());
        foreach (var world in worlds)
        {
            await world.AddToAsync(access.Db);
        }

        return settings;
    }

    private const string Never = "0 0 3 1 1 ? 2098";

    private static string HeldAccount(FeeWorld world, int partner) =>
        LedgerAccount.IdFor(world.ClubId, AccountKind.FeesReceivable, world.Partners[partner].Id);

    /// <summary>The ledger an undisturbed accrual books for <paramref name="world"/>: the service run once on a fresh database.</summary>
    private static async Task<List<string>> ExpectedAccrualsAsync(FeeWorld world)
    {
        await using var reference = await JobServices.CreateAsync(StorageProvider.Sqlite, TimeProvider.System.GetUtcNow());
        await world.AddToAsync(reference.Db);
        await reference.Get<Server.Features.Fees.FeeAccrualService>().AccrueAsync(TestTimeouts.Token());
        var accruals = await FeeWorld.AccrualsAsync(reference.Db);
        Assert.Equal(world.Contracts.Count * FeesPerContract, accruals.Count);
        return accruals;
    }

    private static Period LastMonth() => Period.Of(TimeProvider.System.GetUtcNow()).Previous();

    /// <summary>
    /// What the monthly job records when each club is reconciled once: one run per club, started by the scheduler, for
    /// the month before the one the job ran in. The hub runs on the real clock: a test that straddles the 1st of a
    /// month (Paris) may see either month, and no other.
    /// </summary>
    private static void AssertRuns(IEnumerable<FeeWorld> worlds, Period lastMonthBefore, List<(string ClubId, Period Period, string StartedBy)> runs)
    {
        Assert.Equal(
            worlds.Select(world => (world.ClubId, MonthlyReconciliationJob.StartedBy)).OrderBy(run => run.ClubId, StringComparer.Ordinal),
            runs.Select(run => (run.ClubId, run.StartedBy)));
        Period[] lastMonths = [lastMonthBefore, LastMonth()];
        Assert.All(runs, run => Assert.Contains(run.Period, lastMonths));
    }

    private static async Task<List<(string ClubId, Period Period, string StartedBy)>> RunsOfAsync(EmptyDatabase database)
    {
        await using var access = await JobServices.OverAsync(database, TimeProvider.System.GetUtcNow());
        await using var db = await access.Db.CreateDbContextAsync();
        var runs = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.ReconciliationRuns)
            .DefaultTimeout();
        return [.. runs.Select(run => (run.ClubId, run.Period, run.StartedBy)).OrderBy(run => run.ClubId, StringComparer.Ordinal)];
    }

    private static async Task<List<string>> AccrualsOfAsync(EmptyDatabase database)
    {
        await using var access = await JobServices.OverAsync(database, TimeProvider.System.GetUtcNow());
        return await FeeWorld.AccrualsAsync(access.Db);
    }

    /// <summary>Two hub nodes clustered on one PostgreSQL database, both started and checked in; disposing kills both.</summary>
    private sealed class TwoNodes : IAsyncDisposable
    {
        private TwoNodes(HubNode first, HubNode second) => (First, Second) = (first, second);

        public HubNode First { get; }

        public HubNode Second { get; }

        public static async Task<TwoNodes> StartAsync(EmptyDatabase database, IReadOnlyDictionary<string, string?> settings)
        {
            var nodes = new TwoNodes(HubNode.Start("node-a", settings), HubNode.Start("node-b", settings));
            try
            {
                await Task.WhenAll(nodes.First.WaitStartedAsync(), nodes.Second.WaitStartedAsync());
                await WaitForClusterAsync(database, nodes.First.Name, nodes.Second.Name);
                return nodes;
            }
            catch
            {
                await nodes.DisposeAsync();
                throw;
            }
        }

        /// <summary>Fires <paramref name="job"/> once through Quartz and asserts that one node, and only one, ran it.</summary>
        public async Task FireAndExpectOneRunAsync(EmptyDatabase database, string job)
        {
            await QuartzClient.TriggerAsync(database, job);
            await WaitAsync(() => First.Runs(job).Finished + Second.Runs(job).Finished == 1, $"a node to finish {job}", First, Second);
            // Several check-in rounds later, still one run.
            await Task.Delay(TimeSpan.FromSeconds(3));

            Assert.Equal(1, First.Runs(job).Started + Second.Runs(job).Started);
            Assert.Equal(1, First.Runs(job).Finished + Second.Runs(job).Finished);
        }

        public async ValueTask DisposeAsync()
        {
            await First.DisposeAsync();
            await Second.DisposeAsync();
        }
    }

    private static Task WaitForClusterAsync(EmptyDatabase database, params string[] nodes) =>
        Poll.UntilAsync(
            async () => nodes.All((await PostgresHold.ClusterNodesAsync(database.ConnectionString)).Contains),
            "for the nodes to both check in to the cluster",
            every: TimeSpan.FromMilliseconds(200));

    private static Task WaitAsync(Func<bool> condition, string what, params HubNode[] nodes) =>
        Poll.UntilAsync(condition, $"for {what}", details: () => string.Join("\n----\n", nodes.Select(node => node.Output)));
}
