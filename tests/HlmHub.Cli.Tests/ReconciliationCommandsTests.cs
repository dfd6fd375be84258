using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using HlmHub.Cli.Tests.Infrastructure;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Tests;

/// <summary>
/// <c>hlmhub reconcile</c>, <c>report</c>, <c>ledger</c> and <c>month close</c> against a real hub process. The demo
/// bakery, as a partner does (RedemptionService, StatementService, its own token), redeemed three times this month and
/// sent the matching statement, so this month reconciles clean; for the two months before it, and for a month a year
/// earlier, it sent statements of redemptions the hub never accepted, so those months do not. Each test uses its own
/// month(s) so the order the tests run in does not matter; months close in order, so one test closes them all.
/// </summary>
public sealed partial class ReconciliationCommandsTests(ReconciliationCommandsTests.Fixture world) : IClassFixture<ReconciliationCommandsTests.Fixture>
{
    private const string Club = "club-des-locataires-plaine-commune";
    private const string Bakery = "boulangerie-de-la-place";
    private const string BakeryOffer = "pain-10-pourcent";

    [Fact]
    public async Task ReconcileDryRun_OfThisMonthWhoseStatementMatches_PrintsEachPhaseThenTheSummary_AndExits0()
    {
        // This month is still running: the hub runs it dry (a recorded run of it is refused, below).
        var result = await AsHubAdmin("reconcile", "--club", Club, "--month", world.ThisMonth, "--dry-run");

        AssertExit(0, result);
        Assert.Equal("", result.Error);
        // Piped, the CLI prints one line per finished phase, in order, each complete, before the summary.
        var lines = result.Output.Split('\n').Select(line => line.TrimEnd('\r')).ToList();
        var phases = lines.Select(line => PhaseLine().Match(line)).Where(match => match.Success).ToList();
        Assert.NotEmpty(phases);
        var count = int.Parse(phases[0].Groups["count"].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Enumerable.Range(1, count), phases.Select(phase => int.Parse(phase.Groups["number"].Value, CultureInfo.InvariantCulture)));
        Assert.All(phases, phase => Assert.Equal(phase.Groups["total"].Value, phase.Groups["done"].Value));
        Assert.Equal("redemptions", phases[0].Groups["phase"].Value);
        Assert.Equal("3", phases[0].Groups["done"].Value);
        Assert.True(lines.IndexOf(phases[^1].Value) < lines.FindIndex(line => Cells(line) is ["run", _]), result.ToString());
        Assert.Contains($"Reconciliation of {Club}, {world.ThisMonth}", Words(result.Output), StringComparison.Ordinal);
        Assert.Equal("3", SummaryValue(result, "accepted redemptions"));
        Assert.Equal("60.00 €", SummaryValue(result, "purchases (net)"));
        Assert.Equal("6.00 €", SummaryValue(result, "discounts (net)"));
        Assert.Equal("1", SummaryValue(result, "partner statements"));
        Assert.Equal("0", SummaryValue(result, "discrepancies"));

    }

    [Fact]
    public async Task Reconcile_OfThisMonth_IsRefusedWithExit5_PointingToADryRun()
    {
        var result = await AsHubAdmin("reconcile", "--club", Club, "--month", world.ThisMonth);

        AssertFailed(5, result);
        Assert.Contains("dry run", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_AMonthWithDiscrepancies_CountsThemByKind_PointsToTheReport_AndExits1()
    {
        var result = await AsHubAdmin("reconcile", "--club", Club, "--month", world.LastMonth);

        AssertExit(1, result);
        Assert.Equal("0", SummaryValue(result, "accepted redemptions"));
        Assert.Equal("1", SummaryValue(result, "partner statements"));
        Assert.Equal("2", SummaryValue(result, "missing_at_hub"));
        Assert.Equal("1", SummaryValue(result, "amount_mismatch"));
        Assert.Equal("3", SummaryValue(result, "discrepancies"));
        Assert.Contains($"See them with: hlmhub report discrepancies --club {Club} --month {world.LastMonth}", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReconcileDryRun_ReportsTheDiscrepancies_ButRecordsNoRun()
    {
        var dry = await AsHubAdmin("reconcile", "--club", Club, "--month", world.NeverReconciled, "--dry-run");

        AssertExit(1, dry);
        Assert.Contains("(dry run: nothing recorded)", Words(dry.Output), StringComparison.Ordinal);
        Assert.Equal("(dry run)", SummaryValue(dry, "run"));
        Assert.Equal("1", SummaryValue(dry, "missing_at_hub"));
        Assert.Equal("2", SummaryValue(dry, "discrepancies"));
        // Nothing recorded: for the hub the month was never reconciled.
        var report = await AsHubAdmin("report", "discrepancies", "--club", Club, "--month", world.NeverReconciled);
        AssertFailed(5, report);
    }

    [Fact]
    public async Task ReportDiscrepancies_AsCsvJsonAndTable_ListWhatTheRecordedRunFound_AndExit1()
    {
        var run = await AsHubAdmin("reconcile", "--club", Club, "--month", world.LastMonth);
        AssertExit(1, run);

        var csv = await AsHubAdmin("report", "discrepancies", "--club", Club, "--month", world.LastMonth, "--format", "csv");
        var json = await AsHubAdmin("report", "discrepancies", "--club", Club, "--month", world.LastMonth,
            "--format", "json", "--kind", "missing_at_hub");
        var table = await AsHubAdmin("report", "discrepancies", "--club", Club, "--month", world.LastMonth);

        AssertExit(1, csv);
        var rows = Csv.Parse(csv.Output);
        Assert.Equal(["kind", "partner_id", "offer_id", "contract_id", "partner_event_id", "account_id", "expected_cents", "actual_cents",
            "expected_count", "actual_count", "detail"], rows[0]);
        Assert.Equal(SummaryValue(run, "discrepancies"), (rows.Count - 1).ToString(CultureInfo.InvariantCulture));
        var missing = rows.Skip(1).Where(row => row[0] == "missing_at_hub").ToList();
        Assert.Equal(Fixture.GhostEventsLastMonth, missing.Select(row => row[4]).Order(StringComparer.Ordinal));
        Assert.All(missing, row => Assert.Equal(Bakery, row[1]));
        // The statement says 2 redemptions worth 4.00 € of discounts; the hub accepted none.
        var mismatch = Assert.Single(rows, row => row[0] == "amount_mismatch");
        Assert.Equal([Bakery, BakeryOffer], mismatch[1..3]);
        Assert.Equal(["0", "400", "0", "2"], mismatch[6..10]);

        AssertExit(1, json);
        using var document = JsonDocument.Parse(json.Output);
        var found = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(Fixture.GhostEventsLastMonth, found.Select(item => item.GetProperty("partner_event_id").GetString()).Order(StringComparer.Ordinal));
        Assert.All(found, item => Assert.Equal("missing_at_hub", item.GetProperty("kind").GetString()));

        AssertExit(1, table);
        Assert.All(Fixture.GhostEventsLastMonth, id => Assert.Contains(id, table.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReportSavings_AsJsonCsvAndTable_CountsTheThreeHouseholdsAndTheirSavings()
    {
        var json = await AsHubAdmin("report", "savings", "--club", Club, "--month", world.ThisMonth, "--format", "json");
        var csv = await AsHubAdmin("report", "savings", "--club", Club, "--month", world.ThisMonth, "--format", "csv");
        var table = await AsHubAdmin("report", "savings", "--club", Club, "--month", world.ThisMonth);

        AssertExit(0, json);
        using var document = JsonDocument.Parse(json.Output);
        var total = Assert.Single(document.RootElement.GetProperty("total").EnumerateArray().ToList());
        Assert.Equal(3, total.GetProperty("households").GetInt64());
        Assert.Equal(3, total.GetProperty("redemptions").GetInt64());
        Assert.Equal(3 * Fixture.DiscountCents, total.GetProperty("total_savings_cents").GetInt64());
        Assert.Equal(Fixture.DiscountCents, total.GetProperty("average_savings_per_household_cents").GetInt64());
        var merchant = Assert.Single(document.RootElement.GetProperty("by_partner_kind").EnumerateArray().ToList());
        Assert.Equal("merchant", merchant.GetProperty("partner_kind").GetString());
        Assert.Equal(3 * Fixture.DiscountCents, merchant.GetProperty("total_savings_cents").GetInt64());

        AssertExit(0, csv);
        var rows = Csv.Parse(csv.Output);
        Assert.Equal(["period", "partner_kind", "households", "redemptions", "total_savings_cents", "average_savings_per_household_cents"], rows[0]);
        Assert.Contains(rows, row => row.SequenceEqual([world.ThisMonth, "all", "3", "3", "600", "200"]));
        Assert.Contains(rows, row => row.SequenceEqual([world.ThisMonth, "merchant", "3", "3", "600", "200"]));
        // Over one month the totals' range is the month: each (period, partner_kind) once, or a sum counts it twice.
        var keys = rows.Skip(1).Select(row => (row[0], row[1])).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);

        AssertExit(0, table);
        Assert.Contains("Savings by partner kind (EUR)", table.Output, StringComparison.Ordinal);
        Assert.Contains("6.00 €", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportFees_AsCsvAndJson_GiveTheHubsFeeFiguresForEveryDemoContract_AndTheTableATotal()
    {
        var csv = await AsHubAdmin("report", "fees", "--club", Club, "--month", world.ThisMonth, "--format", "csv");
        var json = await AsHubAdmin("report", "fees", "--club", Club, "--month", world.ThisMonth, "--format", "json");
        // A club administrator reads its own club's report.
        var table = await world.RunAsync(world.As(world.DemoClubAdmin), "report", "fees", "--club", Club, "--month", world.ThisMonth);
        var hub = await world.AdminAsync((admin, options) => admin.GetFeeReportAsync(new V1.GetFeeReportRequest { ClubId = Club, Period = world.ThisMonth }, options));

        AssertExit(0, csv);
        var rows = Csv.Parse(csv.Output);
        Assert.Equal(["contract_id", "partner_id", "partner_name", "yearly_fee_cents", "accrued_cents", "paid_cents", "outstanding_cents",
            "overdue_cents", "last_due_date", "pay_by"], rows[0]);
        Assert.Equal(4, rows.Count - 1);
        var plumber = Assert.Single(rows, row => row[1] == "plomberie-saint-denis");
        Assert.Equal("100000", plumber[3]);
        foreach (var line in hub.Lines)
        {
            var row = Assert.Single(rows, row => row[0] == line.ContractId);
            Assert.Equal(
                [line.YearlyFeeCents, line.AccruedCents, line.PaidCents, line.OutstandingCents, line.OverdueCents],
                row[3..8].Select(cents => long.Parse(cents, CultureInfo.InvariantCulture)));
            // The demo partners pay on time: a fee is owed only while within its term, never overdue.
            Assert.Equal(0, line.OverdueCents);
        }

        AssertExit(0, json);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal(
            hub.Lines.Select(line => (line.ContractId, line.AccruedCents, line.PaidCents)).Order(),
            document.RootElement.EnumerateArray().Select(item => (item.GetProperty("contract_id").GetString()!,
                item.GetProperty("accrued_cents").GetInt64(), item.GetProperty("paid_cents").GetInt64())).Order());

        AssertExit(0, table);
        var total = table.Output.Split('\n').Single(line => Cells(line).FirstOrDefault() == "total");
        Assert.Contains(Euros(hub.Total.YearlyFeeCents), total, StringComparison.Ordinal);
        Assert.Contains(Euros(hub.Total.AccruedCents), total, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerBalances_AreTheSumsOfTheLedgerEntries_AndTheMonthsEntriesHoldTheThreeRedemptions()
    {
        var balances = await AsHubAdmin("ledger", "balances", "--club", Club, "--format", "json");
        var all = await AsHubAdmin("ledger", "entries", "--club", Club, "--limit", "0", "--format", "csv");
        var month = await AsHubAdmin("ledger", "entries", "--club", Club, "--month", world.ThisMonth, "--format", "json");

        AssertExit(0, balances);
        AssertExit(0, all);
        Assert.Equal("", all.Error);
        using var document = JsonDocument.Parse(balances.Output);
        var accounts = document.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(accounts);
        Assert.Equal(0, accounts.Sum(account => account.GetProperty("balance_cents").GetInt64()));
        var rows = Csv.Parse(all.Output);
        Assert.Equal(["transaction_id", "line", "transaction_kind", "period", "occurred_at", "account_id", "debit_cents", "credit_cents", "description"], rows[0]);
        static long Cents(string value) => value.Length == 0 ? 0 : long.Parse(value, CultureInfo.InvariantCulture);
        var fromEntries = rows.Skip(1).GroupBy(row => row[5], StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => (Debit: group.Sum(row => Cents(row[6])), Credit: group.Sum(row => Cents(row[7]))), StringComparer.Ordinal);
        foreach (var account in accounts)
        {
            var id = account.GetProperty("account_id").GetString()!;
            Assert.Equal(fromEntries[id], (account.GetProperty("debit_cents").GetInt64(), account.GetProperty("credit_cents").GetInt64()));
            Assert.Equal(account.GetProperty("debit_cents").GetInt64() - account.GetProperty("credit_cents").GetInt64(), account.GetProperty("balance_cents").GetInt64());
        }

        AssertExit(0, month);
        using var entries = JsonDocument.Parse(month.Output);
        var redemptions = entries.RootElement.EnumerateArray()
            .Where(entry => entry.GetProperty("transaction_kind").GetString() == "Redemption").ToList();
        Assert.Equal(3, redemptions.Select(entry => entry.GetProperty("transaction_id").GetString()).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(3 * Fixture.DiscountCents, redemptions.Sum(entry => entry.GetProperty("debit_cents").ValueKind == JsonValueKind.Number ? entry.GetProperty("debit_cents").GetInt64() : 0));
        Assert.All(redemptions, entry => Assert.Equal(world.ThisMonth, entry.GetProperty("period").GetString()));
    }

    [Fact]
    public async Task LedgerEntries_WithALimit_PrintThatManyAndSayOnStandardErrorThatMoreWereLeft()
    {
        var limited = await AsHubAdmin("ledger", "entries", "--club", Club, "--limit", "1", "--format", "csv");

        AssertExit(0, limited);
        Assert.Equal(2, Csv.Parse(limited.Output).Count);
        Assert.Contains("--limit 0", Assert.Single(limited.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MonthClose_OfTheMonthInProgress_IsRefusedWithExit5()
    {
        var result = await AsHubAdmin("month", "close", "--club", Club, "--month", world.ThisMonth, "--accept-discrepancies");

        AssertFailed(5, result);
    }

    [Fact]
    public async Task MonthClose_RefusesAMonthWhileAnEarlierOneIsOpen_ThenClosesInOrder_DiscrepanciesOnlyIfAccepted()
    {
        // Every month from the club's first booked one up to the clean month, closed as an administrator would.
        foreach (var month in Fixture.MonthsFrom(world.FirstBookedMonth, world.ThreeMonthsAgo))
        {
            await world.ReconcileAndCloseAsync(month);
        }

        var reconciled = await AsHubAdmin("reconcile", "--club", Club, "--month", world.TwoMonthsAgo);
        var outOfOrder = await AsHubAdmin("month", "close", "--club", Club, "--month", world.TwoMonthsAgo, "--accept-discrepancies");
        var cleanReconciled = await AsHubAdmin("reconcile", "--club", Club, "--month", world.ThreeMonthsAgo);
        var clean = await world.RunAsync(world.As(world.DemoClubAdmin), "month", "close", "--club", Club, "--month", world.ThreeMonthsAgo);
        var refused = await AsHubAdmin("month", "close", "--club", Club, "--month", world.TwoMonthsAgo);
        var closed = await AsHubAdmin("month", "close", "--club", Club, "--month", world.TwoMonthsAgo, "--accept-discrepancies", "--format", "json");
        var again = await AsHubAdmin("month", "close", "--club", Club, "--month", world.TwoMonthsAgo, "--accept-discrepancies");

        AssertExit(1, reconciled);
        AssertFailed(5, outOfOrder);
        Assert.Contains($"{world.ThreeMonthsAgo} is still open", outOfOrder.Error, StringComparison.Ordinal);
        AssertExit(0, cleanReconciled);
        AssertExit(0, clean);
        Assert.Contains($"{world.ThreeMonthsAgo} closed", clean.Output, StringComparison.Ordinal);
        AssertFailed(5, refused);
        AssertExit(0, closed);
        using var document = JsonDocument.Parse(closed.Output);
        var closure = Assert.Single(document.RootElement.EnumerateArray().ToList());
        Assert.False(closure.GetProperty("already_closed").GetBoolean());
        Assert.Equal(SummaryValue(reconciled, "discrepancies"), closure.GetProperty("discrepancy_total").GetInt64().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(SummaryValue(reconciled, "run"), closure.GetProperty("run_id").GetString());
        AssertExit(0, again);
        Assert.Contains("already closed", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClubAdministrator_ReconcilingAnotherClub_Exits3()
    {
        var result = await world.RunAsync(world.As(world.DemoClubAdmin), "reconcile", "--club", "some-other-club", "--month", world.LastMonth);

        AssertFailed(3, result);
    }

    private Task<CliResult> AsHubAdmin(params string[] arguments) => world.RunAsync(world.As(world.HubAdmin), arguments);

    private static void AssertExit(int exitCode, CliResult result) => Assert.True(result.ExitCode == exitCode, result.ToString());

    /// <summary>A refusal as the CLI promises it: the exit code and one line on standard error.</summary>
    private static void AssertFailed(int exitCode, CliResult result)
    {
        AssertExit(exitCode, result);
        Assert.Single(result.ErrorLines);
    }

    /// <summary>The value column of the reconcile summary's row named <paramref name="item"/>.</summary>
    private static string SummaryValue(CliResult result, string item)
    {
        var row = result.Output.Split('\n').Select(Cells).Where(cells => cells.Count == 2 && cells[0] == item).ToList();
        Assert.True(row.Count == 1, $"No single summary row '{item}':\n{result}");
        return row[0][1];
    }

    /// <summary>The trimmed cells of one line of a Spectre.Console table (box-drawing or ASCII borders).</summary>
    private static List<string> Cells(string line) =>
        [.. line.Split(['│', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(cell => cell.Length > 0)];

    /// <summary>The text with every run of white space made one space: Spectre.Console wraps a long title at the table's width.</summary>
    private static string Words(string text) => WhiteSpace().Replace(text, " ");

    private static string Euros(long cents) => (cents / 100m).ToString("#,##0.00", CultureInfo.InvariantCulture) + " €";

    [GeneratedRegex(@"^phase (?<number>\d+)/(?<count>\d+) (?<phase>\S+): (?<done>[\d,]+) of (?<total>[\d,]+) done$")]
    private static partial Regex PhaseLine();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    /// <summary>The demo hub, plus what the bakery's till and back office sent (see the class remarks).</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        /// <summary>10 % of a 20 EUR purchase.</summary>
        public const long DiscountCents = 200;

        private const long PurchaseCents = 2_000;

        private readonly HubFixture _hub = new();

        /// <summary>Event ids last month's statement lists and the hub never accepted.</summary>
        public static IReadOnlyList<string> GhostEventsLastMonth { get; } = ["till-ghost-1", "till-ghost-2"];

        public (string ClientId, string Secret) HubAdmin => _hub.HubAdmin;

        public (string ClientId, string Secret) DemoClubAdmin => _hub.DemoClients["club_admin"];

        /// <summary>This month in Europe/Paris, yyyy-MM: three accepted redemptions and their matching statement.</summary>
        public string ThisMonth { get; private set; } = "";

        /// <summary>A statement of two redemptions the hub never accepted.</summary>
        public string LastMonth { get; private set; } = "";

        /// <summary>A statement of one redemption the hub never accepted.</summary>
        public string TwoMonthsAgo { get; private set; } = "";

        /// <summary>The bakery paid a fee ahead, nothing else: reconciles clean.</summary>
        public string ThreeMonthsAgo { get; private set; } = "";

        /// <summary>
        /// The club's first month with a booking, from which months close in order: the demo books its fees from
        /// January of this year, and the payment <see cref="ThreeMonthsAgo"/> is a booking too.
        /// </summary>
        public string FirstBookedMonth { get; private set; } = "";

        /// <summary>
        /// January of last year, before <see cref="FirstBookedMonth"/> (so closing a later month never needs it): a
        /// statement of one redemption the hub never accepted, and never a recorded run.
        /// </summary>
        public string NeverReconciled { get; private set; } = "";

        /// <summary>The months from <paramref name="first"/> up to, not including, <paramref name="before"/> (yyyy-MM).</summary>
        public static IEnumerable<string> MonthsFrom(string first, string before)
        {
            for (var month = DateTime.ParseExact(first, "yyyy-MM", CultureInfo.InvariantCulture);
                string.CompareOrdinal(month.ToString("yyyy-MM", CultureInfo.InvariantCulture), before) < 0;
                month = month.AddMonths(1))
            {
                yield return month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
            }
        }

        /// <summary>Records a run of <paramref name="month"/> and closes it, discrepancies accepted (AdminService, as the hub administrator).</summary>
        public async Task ReconcileAndCloseAsync(string month)
        {
            using var http = new HttpClient();
            using var channel = GrpcChannel.ForAddress(_hub.GrpcUrl);
            var admin = new V1.AdminService.AdminServiceClient(channel);
            var token = await TokenAsync(http, HubAdmin, "hlmhub.admin");
            using (var run = admin.RunReconciliation(new V1.RunReconciliationRequest { ClubId = Club, Period = month }, Bearer(token)))
            {
                await foreach (var update in run.ResponseStream.ReadAllAsync())
                {
                    Assert.NotNull(update);
                }
            }

            await admin.ClosePeriodAsync(new V1.ClosePeriodRequest { ClubId = Club, Period = month, AcceptDiscrepancies = true }, Bearer(token));
        }

        public Dictionary<string, string> As((string ClientId, string Secret) client) => _hub.As(client);

        internal Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) => _hub.RunAsync(environment, arguments);

        /// <summary>Asks the hub itself (AdminService, as the hub administrator), to compare with what the CLI printed.</summary>
        public async Task<T> AdminAsync<T>(Func<V1.AdminService.AdminServiceClient, CallOptions, AsyncUnaryCall<T>> call)
        {
            using var http = new HttpClient();
            using var channel = GrpcChannel.ForAddress(_hub.GrpcUrl);
            var token = await TokenAsync(http, HubAdmin, "hlmhub.admin");
            return await call(new V1.AdminService.AdminServiceClient(channel), Bearer(token));
        }

        public async Task InitializeAsync()
        {
            await _hub.InitializeAsync();
            using var http = new HttpClient();
            using var channel = GrpcChannel.ForAddress(_hub.GrpcUrl);
            var landlord = await TokenAsync(http, _hub.DemoClients["landlord"], "hlmhub.roster");
            var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
            using (var list = new V1.RosterService.RosterServiceClient(channel).ListMemberTokens(new V1.ListMemberTokensRequest(), Bearer(landlord)))
            {
                await foreach (var page in list.ResponseStream.ReadAllAsync())
                {
                    foreach (var entry in page.Entries)
                    {
                        tokens[entry.LandlordReference] = entry.MemberToken;
                    }
                }
            }

            var partner = await TokenAsync(http, _hub.DemoClients["partner"], "hlmhub.redemptions hlmhub.statements");
            // The month of the redemptions' instant, so they and the months before it agree even across a month's end.
            var occurredAt = TimeProvider.System.GetUtcNow().AddSeconds(-5);
            ThisMonth = ParisMonth(occurredAt, 0);
            LastMonth = ParisMonth(occurredAt, -1);
            TwoMonthsAgo = ParisMonth(occurredAt, -2);
            ThreeMonthsAgo = ParisMonth(occurredAt, -3);
            var january = ThisMonth[..4] + "-01";
            FirstBookedMonth = string.CompareOrdinal(january, ThreeMonthsAgo) < 0 ? january : ThreeMonthsAgo;
            NeverReconciled = (int.Parse(ThisMonth[..4], CultureInfo.InvariantCulture) - 1).ToString(CultureInfo.InvariantCulture) + "-01";
            // Whatever this month is, a booking three months ago: the months before the clean one are then the club's
            // to close first.
            await AdminAsync((admin, options) => admin.RecordFeePaymentAsync(new V1.RecordFeePaymentRequest
            {
                ContractId = Club + "-" + Bakery,
                PaymentReference = "VIR-AHEAD",
                AmountCents = 1_000,
                PaidAt = Timestamp.FromDateTimeOffset(DateTimeOffset.ParseExact(ThreeMonthsAgo + "-15T12:00:00Z", "yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture)),
            }, options));

            var redemptions = new V1.RedemptionService.RedemptionServiceClient(channel);
            var thisMonthEvents = new List<string>();
            // Households 1, 3 and 4 of the host landlord joined the demo club (DemoData.JoinsClub).
            foreach (var reference in new[] { "PCH-000001", "PCH-000003", "PCH-000004" })
            {
                var ack = await redemptions.RedeemAsync(new V1.RedemptionEvent
                {
                    EventId = "till-" + reference,
                    OfferId = BakeryOffer,
                    MemberToken = tokens[reference],
                    OccurredAt = Timestamp.FromDateTimeOffset(occurredAt),
                    PurchaseCents = PurchaseCents,
                    DiscountCents = DiscountCents,
                }, Bearer(partner));
                Assert.True(ack.Outcome == V1.RedemptionOutcome.Accepted, ack.ToString());
                thisMonthEvents.Add(ack.EventId);
            }

            var statements = new V1.StatementService.StatementServiceClient(channel);
            await SubmitAsync(statements, partner, ThisMonth, thisMonthEvents);
            await SubmitAsync(statements, partner, LastMonth, GhostEventsLastMonth);
            await SubmitAsync(statements, partner, TwoMonthsAgo, ["till-ghost-3"]);
            await SubmitAsync(statements, partner, NeverReconciled, ["till-ghost-4"]);
        }

        public Task DisposeAsync() => _hub.DisposeAsync();

        /// <summary>The bakery's statement of <paramref name="events"/>, each a 20 EUR purchase with its 2 EUR discount.</summary>
        private static async Task SubmitAsync(V1.StatementService.StatementServiceClient statements, string token, string period, IReadOnlyCollection<string> events)
        {
            var request = new V1.SubmitStatementRequest
            {
                ClubId = Club,
                Period = period,
                Lines =
                {
                    new V1.StatementLine
                    {
                        OfferId = BakeryOffer,
                        RedemptionCount = events.Count,
                        PurchaseTotalCents = events.Count * PurchaseCents,
                        DiscountTotalCents = events.Count * DiscountCents,
                    },
                },
                EventIds = { events },
            };
            await statements.SubmitStatementAsync(request, Bearer(token));
        }

        private static CallOptions Bearer(string token) =>
            new(new Metadata { { "authorization", "Bearer " + token } }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime + TestTimeouts.Default);

        private async Task<string> TokenAsync(HttpClient http, (string ClientId, string Secret) client, string scope)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _hub.HttpUrl + "/connect/token")
            {
                Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("scope", scope)]),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(client.ClientId + ":" + client.Secret)));
            using var response = await http.SendAsync(request).DefaultTimeout();
            var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
            Assert.True(response.IsSuccessStatusCode, body);
            using var json = JsonDocument.Parse(body);
            return json.RootElement.GetProperty("access_token").GetString()!;
        }

        private static string ParisMonth(DateTimeOffset instant, int offset)
        {
            var paris = TimeZoneInfo.ConvertTime(instant, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
            return new DateTime(paris.Year, paris.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(offset).ToString("yyyy-MM", CultureInfo.InvariantCulture);
        }
    }
}
