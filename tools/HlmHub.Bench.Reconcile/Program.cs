using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Reconciliation;
using HlmHub.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

// Usage (tools/bench/reconcile.sh drives it):
//   HlmHub.Bench.Reconcile fill sqlite|postgres <sqlite directory | postgres database> [redemptions]
//   HlmHub.Bench.Reconcile reconcile sqlite|postgres <sqlite directory | postgres database>
// PostgreSQL: the server named by HLMHUB_TEST_POSTGRES; `fill` creates the database, the script drops it.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: HlmHub.Bench.Reconcile fill|reconcile sqlite|postgres <directory|database> [redemptions]");
    return 2;
}

var mode = args[0];
var provider = args[1] == "postgres" ? StorageProvider.Postgres : StorageProvider.Sqlite;
var location = args[2];
var count = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1_000_000;
const string ClubId = "bench-club";
const string PartnerId = "bench-boulangerie";
const string OfferId = "bench-pain";
const int Households = 10_000;
const int RowsPerInsert = 1_000;
var month = new Period(2026, 10);

string? server = provider == StorageProvider.Postgres
    ? Environment.GetEnvironmentVariable("HLMHUB_TEST_POSTGRES") ?? throw new InvalidOperationException("HLMHUB_TEST_POSTGRES is not set")
    : null;
var connectionString = provider == StorageProvider.Sqlite
    ? $"Data Source={Path.Combine(location, StorageOptions.DefaultSqliteFileName)}"
    : new NpgsqlConnectionStringBuilder(server) { Database = location }.ConnectionString;
var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Storage:Provider"] = provider.ToString(),
    ["Storage:DataDirectory"] = provider == StorageProvider.Sqlite ? location : Path.GetTempPath(),
    ["ConnectionStrings:HlmHub"] = provider == StorageProvider.Sqlite ? null : connectionString,
}).Build();
await using var services = new ServiceCollection()
    .AddSingleton<IConfiguration>(configuration)
    .AddLogging()
    .AddHlmHubStorage(configuration)
    .AddHlmHubReconciliation()
    .BuildServiceProvider();
var contexts = services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();

if (mode == "fill")
{
    if (server is not null)
    {
        await using var admin = new NpgsqlConnection(server);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{location}\"", admin);
        await create.ExecuteNonQueryAsync();
    }

    await services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None);
    var fill = Stopwatch.StartNew();
    var households = await SeedClubAsync();
    await BulkInsertAsync(households);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# filled {ClubId} {month} with {count:N0} accepted redemptions and their postings in {fill.Elapsed.TotalSeconds:F1} s ({provider})"));
    return 0;
}

var engine = services.GetRequiredService<ReconciliationEngine>();
// The hub reconciles in a process that has served for a while: EF Core's model and the engine's queries are built
// once, on a dry run of the month before (empty), timed apart.
var warmUp = Stopwatch.StartNew();
var warmUpPhases = new List<string>();
await engine.RunAsync(
    new ReconciliationRequest(ClubId, month.Previous(), DryRun: true, "bench"),
    new PhaseClock(phase => { if (!warmUpPhases.Contains(phase)) { warmUpPhases.Add(phase); Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#   warm-up {phase} at {warmUp.Elapsed.TotalSeconds:F2} s")); } }),
    CancellationToken.None);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# warm-up (dry run of an empty month, fresh process): {warmUp.Elapsed.TotalSeconds:F2} s"));
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var time = Stopwatch.StartNew();
// When each phase started: where the time goes, printed with the result.
var phaseStarts = new List<(string Phase, TimeSpan At)>();
var progress = new PhaseClock(phase =>
{
    if (phaseStarts.Count == 0 || phaseStarts[^1].Phase != phase)
    {
        phaseStarts.Add((phase, time.Elapsed));
    }
});
var report = await engine.RunAsync(new ReconciliationRequest(ClubId, month, DryRun: false, "bench"), progress, CancellationToken.None);
time.Stop();
// On a shared machine the wall clock includes waiting for a core; the process's own CPU time does not (SQLite runs
// in the process; PostgreSQL's work is in its own processes and not counted here).
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
var phases = phaseStarts.Select((phase, index) =>
    $"{phase.Phase} {((index + 1 < phaseStarts.Count ? phaseStarts[index + 1].At : time.Elapsed) - phase.At).TotalSeconds:F2} s");
Console.WriteLine("# phases: " + string.Join(", ", phases));
Console.WriteLine("| provider | redemptions | discrepancies | seconds | bench process CPU seconds | peak working set MB (VmHWM) | peak managed MB |");
Console.WriteLine("|---|---|---|---|---|---|---|");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {provider} | {report.Redemptions:N0} | {report.DiscrepancyTotal} | {time.Elapsed.TotalSeconds:F1} | {cpu.TotalSeconds:F1} | {PeakResidentMegabytes()} | {GC.GetGCMemoryInfo().HeapSizeBytes / 1_048_576} |"));
return report.DiscrepancyTotal == 0 ? 0 : 1;

// The club, its bakery (10 % off, no club share), paid fees and households, through the model; the month's bulk through SQL.
async Task<List<(Guid Id, string Token)>> SeedClubAsync()
{
    var created = new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);
    var landlord = Landlord.Create("bench-bailleur", "Bailleur", "732829320", created);
    var club = Club.Create(ClubId, "Club", landlord.Id, ClubKind.TenantClub, null, created);
    var bakery = Partner.Create(PartnerId, "Boulangerie", PartnerKind.Merchant, null, "73282932000074", true, created);
    var contract = Contract.Create("bench-contrat", club, bakery, null, new DateOnly(2026, 1, 1), null, [], created);
    var (offer, version) = Offer.Create(OfferId, contract, "10 % sur le pain", new OfferTerms
    {
        Kind = OfferKind.PercentDiscount,
        PercentBasisPoints = 1000,
        ValidFrom = created,
    }, created);
    await using var db = await contexts.CreateDbContextAsync();
    db.AddRange(landlord, club, bakery, contract, offer, version);
    db.AddRange(RedemptionBooking.Accounts(ClubId, PartnerId).Concat(FeeBooking.Accounts(ClubId, PartnerId)).DistinctBy(account => account.Id));
    db.Add(FeeBooking.Accrual(Guid.CreateVersion7(created), contract, contract.StartDate, new Period(2026, 1), created));
    db.Add(LedgerTransaction.Create(
        Guid.CreateVersion7(created), IdempotencyKeys.FeePayment(contract.Id, "VIR-1"), ClubId, TransactionKind.FeePayment, new Period(2026, 1), "Fee", created, created,
        [Posting.Debit(LedgerAccount.IdFor(ClubId, AccountKind.Bank), contract.YearlyFee), Posting.Credit(LedgerAccount.IdFor(ClubId, AccountKind.FeesReceivable, PartnerId), contract.YearlyFee)]));
    var list = new List<(Guid, string)>(Households);
    for (var index = 0; index < Households; index++)
    {
        var household = Household.Create(Guid.CreateVersion7(created), landlord.Id, $"REF-{index:D6}", $"mt_{index:D6}", 1 + (index % 7), false, created);
        db.Add(household);
        list.Add((household.Id, household.MemberToken));
    }

    // The partner's statement agrees: the month reconciles without a discrepancy, so the run does all of its work.
    var (purchases, discounts) = Enumerable.Range(0, count).Aggregate((0L, 0L), (sum, index) => (sum.Item1 + Purchase(index), sum.Item2 + (Purchase(index) / 10)));
    db.Add(Statement.Submit(Guid.CreateVersion7(created), PartnerId, ClubId, month, 1, [(OfferId, count, new Money(purchases), new Money(discounts))], [], created));
    await db.SaveChangesAsync();
    return list;
}

async Task BulkInsertAsync(List<(Guid Id, string Token)> households)
{
    await using DbConnection connection = provider == StorageProvider.Sqlite ? new SqliteConnection(connectionString) : new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    var start = month.StartUtc.ToUnixTimeMilliseconds();
    var span = month.EndUtc.ToUnixTimeMilliseconds() - start;
    var redemptionAccount = LedgerAccount.IdFor(ClubId, AccountKind.DiscountsGranted, PartnerId);
    var savingsAccount = LedgerAccount.IdFor(ClubId, AccountKind.TenantSavings);
    for (var first = 0; first < count; first += RowsPerInsert * 10)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        for (var chunk = first; chunk < Math.Min(count, first + (RowsPerInsert * 10)); chunk += RowsPerInsert)
        {
            var redemptions = new StringBuilder("INSERT INTO \"Redemptions\" (\"Id\", \"PartnerId\", \"PartnerEventId\", \"Kind\", \"ClubId\", \"OfferId\", \"OfferVersion\", \"MemberToken\", \"HouseholdId\", \"OccurredAt\", \"ReceivedAt\", \"Period\", \"PurchaseAmount\", \"ClaimedDiscount\", \"ComputedDiscount\", \"Outcome\", \"RejectionReason\", \"CancelsRedemptionId\") VALUES ");
            var transactions = new StringBuilder("INSERT INTO \"LedgerTransactions\" (\"Id\", \"IdempotencyKey\", \"ClubId\", \"Kind\", \"Period\", \"Description\", \"OccurredAt\", \"RecordedAt\", \"ReversesTransactionId\") VALUES ");
            var entries = new StringBuilder("INSERT INTO \"LedgerEntries\" (\"TransactionId\", \"Line\", \"AccountId\", \"Side\", \"Amount\") VALUES ");
            var end = Math.Min(count, chunk + RowsPerInsert);
            for (var index = chunk; index < end; index++)
            {
                var separator = index == chunk ? "" : ",";
                var (householdId, token) = households[index % households.Count];
                var occurred = start + (span * index / count);
                // As the hub makes them (RedemptionBatch): version 7, from the time of receipt, so ids sort by time.
                var received = DateTimeOffset.FromUnixTimeMilliseconds(occurred + 1000);
                var id = Guid.CreateVersion7(received);
                var transactionId = Guid.CreateVersion7(received);
                var purchase = Purchase(index);
                var discount = purchase / 10;
                redemptions.Append(CultureInfo.InvariantCulture,
                    $"{separator}({Uuid(id)}, '{PartnerId}', 'ev-{index:D8}', 'Redemption', '{ClubId}', '{OfferId}', 1, '{token}', {Uuid(householdId)}, {occurred}, {occurred + 1000}, {month.Key}, {purchase}, {discount}, {discount}, 'Accepted', NULL, NULL)");
                transactions.Append(CultureInfo.InvariantCulture,
                    $"{separator}({Uuid(transactionId)}, '{IdempotencyKeys.Redemption(id)}', '{ClubId}', 'Redemption', {month.Key}, 'Redemption ev-{index:D8}', {occurred}, {occurred + 1000}, NULL)");
                entries.Append(CultureInfo.InvariantCulture,
                    $"{separator}({Uuid(transactionId)}, 1, '{redemptionAccount}', 'Debit', {discount}),({Uuid(transactionId)}, 2, '{savingsAccount}', 'Credit', {discount})");
            }

            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = redemptions + ";" + transactions + ";" + entries + ";";
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }
}

string Uuid(Guid id) => provider == StorageProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'::uuid";

static long Purchase(int index) => 1_000 + (index % 50 * 100);

// The kernel's record of the process's peak resident set (VmHWM), in MB: the whole process, runtime included.
static long PeakResidentMegabytes()
{
    var line = File.ReadLines("/proc/self/status").FirstOrDefault(item => item.StartsWith("VmHWM:", StringComparison.Ordinal));
    return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
}

/// <summary>Called on the engine's own thread (Progress&lt;T&gt; would post to the thread pool and time the callbacks, not the phases).</summary>
internal sealed class PhaseClock(Action<string> onPhase) : IProgress<ReconciliationProgress>
{
    public void Report(ReconciliationProgress value) => onPhase(value.Phase);
}
