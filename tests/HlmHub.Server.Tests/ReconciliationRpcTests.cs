using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

public sealed class ReconciliationRpcSqliteTests(SqliteHubFixture fixture) : ReconciliationRpcTests(fixture), IClassFixture<SqliteHubFixture>;

public sealed class ReconciliationRpcPostgresTests(PostgresHubFixture fixture) : ReconciliationRpcTests(fixture), IClassFixture<PostgresHubFixture>;

/// <summary>
/// The Admin API's reconciliation, ledger, month-closing and report rpcs and the partners' StatementService, over real
/// gRPC against the real hub. Each test builds its own club: a bakery under contract since 1 January 2026 whose
/// yearly fee was never accrued, so October 2026 reconciles with one discrepancy until the fee is booked.
/// </summary>
public abstract class ReconciliationRpcTests(HubFixture fixture)
{
    private const string October = "2026-10";

    private HubHost Hub => fixture.Hub;

    private AdminClient Admin => fixture.HubAdmin;

    [Fact]
    public async Task RunReconciliation_streams_progress_then_the_report_which_is_recorded_and_listed()
    {
        var world = await NewClubAsync();
        var call = world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October }, world.ClubAdminOptions());
        var updates = new List<RunReconciliationUpdate>();
        await foreach (var update in call.ResponseStream.ReadAllAsync())
        {
            updates.Add(update);
        }

        Assert.True(updates.Count >= 2);
        Assert.All(updates[..^1], update => Assert.Equal(RunReconciliationUpdate.UpdateOneofCase.Progress, update.UpdateCase));
        Assert.Contains(updates, update => update.Progress?.Phase == "fees");
        var report = updates[^1].Report;
        Assert.NotNull(report);
        Assert.NotEmpty(report.RunId);
        Assert.Equal(1, report.DiscrepancyTotal);
        var discrepancy = Assert.Single(report.Discrepancies);
        Assert.Equal((DiscrepancyKind.FeeNotAccrued, world.ContractId, 10_000L), (discrepancy.Kind, discrepancy.ContractId, discrepancy.ExpectedCents));

        var fetched = await world.ClubAdmin.CallAsync((client, options) => client.GetReconciliationReportAsync(new GetReconciliationReportRequest { ClubId = world.ClubId, Period = October }, options));
        Assert.Equal(report.RunId, fetched.RunId);
        Assert.Equal(report.InputsFingerprint, fetched.InputsFingerprint);
        var listed = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, Kind = DiscrepancyKind.FeeNotAccrued }, options));
        Assert.Equal(report.RunId, listed.RunId);
        Assert.Equal(discrepancy, Assert.Single(listed.Discrepancies));
        var none = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, Kind = DiscrepancyKind.Duplicate }, options));
        Assert.Empty(none.Discrepancies);
    }

    // A page token was a position only: sent with another kind, account or month it silently gave a page of another list.
    [Fact]
    public async Task A_page_token_sent_with_other_filters_than_its_first_page_is_invalid_argument()
    {
        var world = await NewClubAsync();
        var florist = await Admin.CreatePartnerAsync(SampleData.Bakery());
        await Admin.CreateContractAsync(SampleData.Contract(world.ClubId, florist.Id));
        await RecordRunAsync(world);
        await RecordFeePaymentAsync(world, "VIR-2026-10-A", new DateTimeOffset(2026, 10, 5, 10, 0, 0, TimeSpan.Zero));
        await RecordFeePaymentAsync(world, "VIR-2026-10-B", new DateTimeOffset(2026, 10, 6, 10, 0, 0, TimeSpan.Zero));
        var discrepancies = new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, PageSize = 1 };
        var entries = new ListLedgerEntriesRequest { ClubId = world.ClubId, PageSize = 1 };
        var discrepanciesPage1 = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(discrepancies, options));
        var entriesPage1 = await world.ClubAdmin.CallAsync((client, options) => client.ListLedgerEntriesAsync(entries, options));

        var refused = new[]
        {
            await world.ClubAdmin.FailsAsync((client, options) => client.ListDiscrepanciesAsync(
                new ListDiscrepanciesRequest(discrepancies) { Kind = DiscrepancyKind.FeeNotAccrued, PageToken = discrepanciesPage1.NextPageToken }, options)),
            await world.ClubAdmin.FailsAsync((client, options) => client.ListLedgerEntriesAsync(
                new ListLedgerEntriesRequest(entries) { AccountId = entriesPage1.Entries[0].AccountId, PageToken = entriesPage1.NextPageToken }, options)),
            await world.ClubAdmin.FailsAsync((client, options) => client.ListLedgerEntriesAsync(
                new ListLedgerEntriesRequest(entries) { Period = October, PageToken = entriesPage1.NextPageToken }, options)),
        };
        var discrepanciesPage2 = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest(discrepancies) { PageToken = discrepanciesPage1.NextPageToken }, options));
        var entriesPage2 = await world.ClubAdmin.CallAsync((client, options) => client.ListLedgerEntriesAsync(
            new ListLedgerEntriesRequest(entries) { PageToken = entriesPage1.NextPageToken }, options));

        Assert.All(refused, status => Assert.Equal(
            (StatusCode.InvalidArgument, "page_token does not match the request's filters: send the first page's filters with each next_page_token, or no page_token to start again"),
            (status.StatusCode, status.Detail)));
        Assert.Single(discrepanciesPage2.Discrepancies);
        Assert.Single(entriesPage2.Entries);
        Assert.NotEqual(entriesPage1.Entries[0], entriesPage2.Entries[0]);
    }

    // Entries are listed in booking order (recorded_at), but a writer takes its recorded_at before it commits: on a
    // server database two writers commit out of that order, and on two hub instances their clocks differ. A page token
    // holding a position shifted every later entry by the late one's, and the next page repeated entries already read.
    [Fact]
    public async Task ListLedgerEntries_repeats_no_entry_when_a_booking_recorded_earlier_commits_between_two_pages()
    {
        var world = await NewClubAsync();
        await RecordFeePaymentAsync(world, "VIR-A", new DateTimeOffset(2026, 10, 5, 10, 0, 0, TimeSpan.Zero));
        await RecordFeePaymentAsync(world, "VIR-B", new DateTimeOffset(2026, 10, 6, 10, 0, 0, TimeSpan.Zero));
        var request = new ListLedgerEntriesRequest { ClubId = world.ClubId, PageSize = 2 };
        var first = await world.ClubAdmin.CallAsync((client, options) => client.ListLedgerEntriesAsync(request, options));

        // Another writer's payment, recorded a second before the first page's entries, commits only now.
        var factory = Hub.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<HlmHub.Storage.HlmHubDbContext>>();
        await using (var db = await factory.CreateDbContextAsync(TestTimeouts.Token()))
        {
            var contract = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
                db.Contracts, item => item.Id == world.ContractId, TestTimeouts.Token());
            var recordedAt = first.Entries[0].RecordedAt.ToDateTimeOffset().AddSeconds(-1);
            db.LedgerTransactions.Add(HlmHub.Domain.Ledger.FeeBooking.Payment(
                Guid.NewGuid(), contract, "VIR-LATE", new HlmHub.Domain.Money(4_000), new DateTimeOffset(2026, 10, 7, 10, 0, 0, TimeSpan.Zero),
                new HlmHub.Domain.Period(2026, 10), recordedAt));
            await db.SaveChangesAsync(TestTimeouts.Token());
        }

        var rest = new List<LedgerEntry>();
        for (var token = first.NextPageToken; token.Length > 0;)
        {
            var page = await world.ClubAdmin.CallAsync((client, options) => client.ListLedgerEntriesAsync(new ListLedgerEntriesRequest(request) { PageToken = token }, options));
            rest.AddRange(page.Entries);
            token = page.NextPageToken;
        }

        Assert.All(first.Entries, entry => Assert.DoesNotContain(entry, rest));
        Assert.Equal(2, rest.Count(entry => entry.IdempotencyKey.EndsWith(":VIR-B", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ListDiscrepancies_pages_stay_on_the_first_pages_run_when_another_run_is_recorded_between_them()
    {
        var world = await NewClubAsync();
        // A second contract whose fee was never accrued: two discrepancies, two pages of one.
        var florist = await Admin.CreatePartnerAsync(SampleData.Bakery());
        var second = await Admin.CreateContractAsync(SampleData.Contract(world.ClubId, florist.Id));
        var first = await RecordRunAsync(world);
        var page1 = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, PageSize = 1 }, options));
        var rerun = await RecordRunAsync(world);
        var latest = await world.ClubAdmin.CallAsync((client, options) => client.GetReconciliationReportAsync(new GetReconciliationReportRequest { ClubId = world.ClubId, Period = October }, options));

        // As a client that sends no run_id after the first page; and as the CLI does, sending the first page's.
        var page2 = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, PageSize = 1, PageToken = page1.NextPageToken }, options));
        var page2Named = await world.ClubAdmin.CallAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, RunId = page1.RunId, PageSize = 1, PageToken = page1.NextPageToken }, options));

        Assert.Equal(2, first.DiscrepancyTotal);
        Assert.NotEqual(first.RunId, rerun.RunId);
        Assert.Equal(rerun.RunId, latest.RunId);
        Assert.Equal(first.RunId, page1.RunId);
        Assert.NotEmpty(page1.NextPageToken);
        Assert.Equal(page1.RunId, page2.RunId);
        Assert.Equal(page2, page2Named);
        Assert.Empty(page2.NextPageToken);
        Assert.Equal(
            new[] { world.ContractId, second.Id }.Order(StringComparer.Ordinal),
            page1.Discrepancies.Concat(page2.Discrepancies).Select(item => item.ContractId).Order(StringComparer.Ordinal));

        // The token names its run: another run_id with it would join two runs' pages, and is refused.
        var otherRun = await world.ClubAdmin.FailsAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = October, RunId = rerun.RunId, PageSize = 1, PageToken = page1.NextPageToken }, options));
        Assert.Equal(StatusCode.InvalidArgument, otherRun.StatusCode);
        Assert.StartsWith("page_token:", otherRun.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_of_another_month_than_the_period_given_is_refused_naming_its_month()
    {
        var world = await NewClubAsync();
        var run = await RecordRunAsync(world);

        var report = await world.ClubAdmin.FailsAsync((client, options) => client.GetReconciliationReportAsync(
            new GetReconciliationReportRequest { ClubId = world.ClubId, Period = "2026-09", RunId = run.RunId }, options));
        var listed = await world.ClubAdmin.FailsAsync((client, options) => client.ListDiscrepanciesAsync(
            new ListDiscrepanciesRequest { ClubId = world.ClubId, Period = "2026-09", RunId = run.RunId }, options));
        var byIdAlone = await world.ClubAdmin.CallAsync((client, options) => client.GetReconciliationReportAsync(
            new GetReconciliationReportRequest { ClubId = world.ClubId, RunId = run.RunId }, options));

        Assert.All([report, listed], status =>
        {
            Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
            Assert.StartsWith("run_id:", status.Detail, StringComparison.Ordinal);
            Assert.Contains($"reconciled {October}, not period 2026-09", status.Detail, StringComparison.Ordinal);
        });
        Assert.Equal((run.RunId, October), (byIdAlone.RunId, byIdAlone.Period));
    }

    [Fact]
    public async Task A_dry_run_records_nothing()
    {
        var world = await NewClubAsync();
        var call = world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October, DryRun = true }, world.ClubAdminOptions());
        var last = (await call.ResponseStream.ReadAllAsync().ToListAsync())[^1];

        Assert.Empty(last.Report.RunId);
        var status = await world.ClubAdmin.FailsAsync((client, options) => client.GetReconciliationReportAsync(new GetReconciliationReportRequest { ClubId = world.ClubId, Period = October }, options));
        Assert.Equal(StatusCode.NotFound, status.StatusCode);
    }

    [Fact]
    public async Task Another_clubs_administrator_is_denied_every_reconciliation_rpc()
    {
        var world = await NewClubAsync();
        var stranger = await NewClubAsync();
        var club = world.ClubId;

        var call = stranger.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = club, Period = October }, stranger.ClubAdminOptions());
        var streamed = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.ReadAllAsync().ToListAsync().AsTask());
        Status[] statuses =
        [
            streamed.Status,
            await stranger.ClubAdmin.FailsAsync((client, options) => client.GetReconciliationReportAsync(new GetReconciliationReportRequest { ClubId = club, Period = October }, options)),
            await stranger.ClubAdmin.FailsAsync((client, options) => client.ListDiscrepanciesAsync(new ListDiscrepanciesRequest { ClubId = club, Period = October }, options)),
            await stranger.ClubAdmin.FailsAsync((client, options) => client.GetBalancesAsync(new GetBalancesRequest { ClubId = club }, options)),
            await stranger.ClubAdmin.FailsAsync((client, options) => client.ListLedgerEntriesAsync(new ListLedgerEntriesRequest { ClubId = club }, options)),
            await stranger.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(new ClosePeriodRequest { ClubId = club, Period = October }, options)),
            await stranger.ClubAdmin.FailsAsync((client, options) => client.GetFeeReportAsync(new GetFeeReportRequest { ClubId = club, Period = October }, options)),
            await stranger.ClubAdmin.FailsAsync((client, options) => client.GetSavingsReportAsync(new GetSavingsReportRequest { ClubId = club, FromPeriod = October }, options)),
        ];

        Assert.All(statuses, status => Assert.Equal(StatusCode.PermissionDenied, status.StatusCode));
    }

    [Fact]
    public async Task Balances_entries_and_the_fee_report_show_a_recorded_payment()
    {
        var world = await NewClubAsync();
        await RecordFeePaymentAsync(world, "VIR-2026-10", new DateTimeOffset(2026, 10, 5, 10, 0, 0, TimeSpan.Zero));

        var balances = await world.ClubAdmin.CallAsync((client, options) => client.GetBalancesAsync(new GetBalancesRequest { ClubId = world.ClubId, Period = October }, options));
        var entries = await world.ClubAdmin.CallAsync((client, options) => client.ListLedgerEntriesAsync(new ListLedgerEntriesRequest { ClubId = world.ClubId, Period = October, PageSize = 1 }, options));
        var fees = await world.ClubAdmin.CallAsync((client, options) => client.GetFeeReportAsync(new GetFeeReportRequest { ClubId = world.ClubId, Period = October }, options));
        var savings = await world.ClubAdmin.CallAsync((client, options) => client.GetSavingsReportAsync(new GetSavingsReportRequest { ClubId = world.ClubId, FromPeriod = "2026-01", ToPeriod = October }, options));

        Assert.Contains(balances.Balances, balance => balance.Kind == LedgerAccountKind.Bank && balance.BalanceCents == 4_000);
        Assert.Contains(balances.Balances, balance => balance.Kind == LedgerAccountKind.FeesReceivable && balance.BalanceCents == -4_000 && balance.PartnerId == world.PartnerId);
        Assert.Single(entries.Entries);
        Assert.NotEmpty(entries.NextPageToken);
        var fee = Assert.Single(fees.Lines);
        Assert.Equal((world.ContractId, 0L, 4_000L, -4_000L), (fee.ContractId, fee.AccruedCents, fee.PaidCents, fee.OutstandingCents));
        Assert.Equal(0, savings.Total.Households);
    }

    [Fact]
    public async Task ClosePeriod_needs_a_current_run_and_accepted_discrepancies_then_freezes_statements()
    {
        var world = await NewClubAsync();
        var unreconciled = await world.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(new ClosePeriodRequest { ClubId = world.ClubId, Period = October }, options));
        await world.ClubAdmin.CallAsync((client, options) => client.GetFeeReportAsync(new GetFeeReportRequest { ClubId = world.ClubId, Period = October }, options));
        var run = (await world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October }, world.ClubAdminOptions())
            .ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;
        var withDiscrepancies = await world.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(new ClosePeriodRequest { ClubId = world.ClubId, Period = October }, options));
        await world.Partner.CallAsync((client, options) => client.SubmitStatementAsync(world.Statement(), options));
        var changed = await world.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = October, AcceptDiscrepancies = true }, options));
        var rerun = (await world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October }, world.ClubAdminOptions())
            .ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;

        var closed = await world.ClubAdmin.CallAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = October, AcceptDiscrepancies = true }, options));
        var again = await world.ClubAdmin.CallAsync((client, options) => client.ClosePeriodAsync(new ClosePeriodRequest { ClubId = world.ClubId, Period = October }, options));
        var lateStatement = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(world.Statement(), options));

        Assert.Equal(StatusCode.FailedPrecondition, unreconciled.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, withDiscrepancies.StatusCode);
        Assert.Contains("accept_discrepancies", withDiscrepancies.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.FailedPrecondition, changed.StatusCode);
        Assert.Contains("changed since", changed.Detail, StringComparison.Ordinal);
        Assert.NotEqual(run.InputsFingerprint, rerun.InputsFingerprint);
        Assert.Equal((false, rerun.RunId), (closed.AlreadyClosed, closed.RunId));
        Assert.True(again.AlreadyClosed);
        Assert.Equal(StatusCode.FailedPrecondition, lateStatement.StatusCode);
    }

    // Closing the running month used to say "has no recorded reconciliation: run one first", and the run it asked for
    // was then refused as "has not ended yet": the admin was sent round in a circle.
    [Fact]
    public async Task ClosePeriod_of_a_month_not_yet_over_says_it_has_not_ended()
    {
        var world = await NewClubAsync();
        var running = HlmHub.Domain.Period.Of(TimeProvider.System.GetUtcNow());

        foreach (var month in new[] { running, running.Next() })
        {
            var refused = await world.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(
                new ClosePeriodRequest { ClubId = world.ClubId, Period = month.ToString(), AcceptDiscrepancies = true }, options));

            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains($"{month} has not ended yet (in Paris)", refused.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain("run one", refused.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ClosePeriod_refuses_a_month_once_a_contract_dated_in_it_is_added_after_its_run()
    {
        var world = await NewClubAsync();
        await RecordRunAsync(world, October);
        var florist = await Admin.CreatePartnerAsync(SampleData.Bakery());
        var contract = SampleData.Contract(world.ClubId, florist.Id);
        contract.StartDate = "2026-10-05";
        await Admin.CreateContractAsync(contract);

        var refused = await world.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = October, AcceptDiscrepancies = true }, options));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("changed since", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosePeriod_refuses_a_month_while_an_earlier_one_since_the_first_booking_is_open_naming_it()
    {
        var world = await NewClubAsync();
        // A fee payment dated in August is booked there; October's fee findings read every payment booked up to
        // October, so August, and September after it (empty, but a payment dated in it would land there), must be
        // closed first for October to be final.
        await RecordFeePaymentAsync(world, "VIR-2026-08", new DateTimeOffset(2026, 8, 5, 10, 0, 0, TimeSpan.Zero));
        await RecordRunAsync(world, October);

        var beforeAugust = await CloseAsync(world, October);
        await RecordRunAsync(world, "2026-08");
        await world.ClubAdmin.CallAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = "2026-08", AcceptDiscrepancies = true }, options));
        var beforeSeptember = await CloseAsync(world, October);
        await RecordRunAsync(world, "2026-09");
        await world.ClubAdmin.CallAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = "2026-09", AcceptDiscrepancies = true }, options));
        var october = await world.ClubAdmin.CallAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = October, AcceptDiscrepancies = true }, options));

        Assert.Equal((StatusCode.FailedPrecondition, StatusCode.FailedPrecondition), (beforeAugust.StatusCode, beforeSeptember.StatusCode));
        Assert.Contains("2026-08 is still open", beforeAugust.Detail, StringComparison.Ordinal);
        Assert.Contains("2026-09 is still open", beforeSeptember.Detail, StringComparison.Ordinal);
        Assert.False(october.AlreadyClosed);

        static Task<Status> CloseAsync(ClubWorld world, string period) => world.ClubAdmin.FailsAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = period, AcceptDiscrepancies = true }, options));
    }

    [Fact]
    public async Task Concurrent_ClosePeriod_calls_close_the_month_once_and_the_others_are_answered_already_closed()
    {
        var world = await NewClubAsync();
        await RecordRunAsync(world, October);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => world.ClubAdmin.CallAsync((client, options) => client.ClosePeriodAsync(
            new ClosePeriodRequest { ClubId = world.ClubId, Period = October, AcceptDiscrepancies = true }, options))));

        Assert.Single(answers, answer => !answer.AlreadyClosed);
        // One closure named by all: the winner answers the time it inserted, the others read it back (stored to the
        // millisecond).
        Assert.Single(answers.Select(answer => (answer.ClosedAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), answer.RunId)).Distinct());
    }

    [Fact]
    public async Task ListLedgerEntries_of_an_unknown_club_is_not_found_as_GetBalances_is()
    {
        var entries = await Admin.FailsAsync((client, options) => client.ListLedgerEntriesAsync(new ListLedgerEntriesRequest { ClubId = "no-such-club" }, options));
        var balances = await Admin.FailsAsync((client, options) => client.GetBalancesAsync(new GetBalancesRequest { ClubId = "no-such-club" }, options));

        Assert.Equal((StatusCode.NotFound, StatusCode.NotFound), (entries.StatusCode, balances.StatusCode));
        Assert.Contains("no-such-club", entries.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunReconciliation_refuses_to_record_a_month_not_over_and_runs_it_dry()
    {
        var world = await NewClubAsync();
        const string NotBegun = "2999-12";

        var call = world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = NotBegun }, world.ClubAdminOptions());
        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.ReadAllAsync().ToListAsync().AsTask());
        var dry = (await world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = NotBegun, DryRun = true }, world.ClubAdminOptions())
            .ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("dry run", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((true, ""), (dry.DryRun, dry.RunId));
    }

    /// <summary>A 40 EUR payment of the world's contract, booked in the month of <paramref name="paidAt"/>.</summary>
    private Task<FeePayment> RecordFeePaymentAsync(ClubWorld world, string reference, DateTimeOffset paidAt) =>
        Admin.CallAsync((client, options) => client.RecordFeePaymentAsync(new RecordFeePaymentRequest
        {
            ContractId = world.ContractId,
            PaymentReference = reference,
            AmountCents = 4_000,
            PaidAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(paidAt),
        }, options));

    private static async Task<ReconciliationReport> RecordRunAsync(ClubWorld world, string period) =>
        (await world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = period }, world.ClubAdminOptions())
            .ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;

    [Fact]
    public async Task SubmitStatement_keeps_each_revision_and_refuses_offers_that_are_not_the_partners()
    {
        var world = await NewClubAsync();
        var other = await NewClubAsync();

        var first = await world.Partner.CallAsync((client, options) => client.SubmitStatementAsync(world.Statement(), options));
        var second = await world.Partner.CallAsync((client, options) => client.SubmitStatementAsync(world.Statement(), options));
        var foreignOffer = world.Statement();
        foreignOffer.Lines[0].OfferId = other.OfferId;
        var notMine = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(foreignOffer, options));
        var foreignClub = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(new SubmitStatementRequest { ClubId = other.ClubId, Period = October }, options));
        var future = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(new SubmitStatementRequest { ClubId = world.ClubId, Period = "2999-01" }, options));
        var malformed = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(new SubmitStatementRequest { ClubId = world.ClubId, Period = "October" }, options));
        // A total a 64-bit sum of a month could not hold: refused, so the month can still be reconciled and closed.
        var implausible = world.Statement();
        implausible.Lines[0].PurchaseTotalCents = 9_000_000_000_000_000_000;
        var overflowing = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(implausible, options));
        var tooManyIds = world.Statement();
        tooManyIds.EventIds.AddRange(Enumerable.Range(0, 20_001).Select(index => $"e{index}"));
        var overTheLimit = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(tooManyIds, options));

        Assert.Equal((1, 2), (first.Revision, second.Revision));
        Assert.Equal((1, 2), (second.Lines, second.EventIds));
        Assert.Equal(StatusCode.PermissionDenied, notMine.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, foreignClub.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, future.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, overflowing.StatusCode);
        Assert.Contains("a total is at most 1000000000000 cents", overflowing.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.ResourceExhausted, overTheLimit.StatusCode);
        Assert.Contains("Statements:MaxEventIds = 20000", overTheLimit.Detail, StringComparison.Ordinal);
        var report = (await world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October, DryRun = true }, world.ClubAdminOptions())
            .ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;
        Assert.Equal(1, report.Statements);
        Assert.Contains(report.Discrepancies, item => item.Kind == DiscrepancyKind.AmountMismatch && item.ActualCents == 300);
        Assert.Contains(report.Discrepancies, item => item.Kind == DiscrepancyKind.MissingAtHub && item.PartnerEventId == "ev-2");
    }

    [Fact]
    public async Task SubmitStatement_refuses_a_malformed_club_offer_or_event_id_as_invalid_argument_and_stores_nothing()
    {
        var world = await NewClubAsync();
        // "ev-1 " would be stored as a second "ev-1" once trimmed; a NUL is no one's id, and PostgreSQL cannot take it.
        var trailingSpace = world.Statement();
        trailingSpace.EventIds.Add("ev-1 ");
        var controlInEvent = world.Statement();
        controlInEvent.EventIds.Add("ev-\u0000");
        var controlInClub = world.Statement();
        controlInClub.ClubId = world.ClubId + "\u0000";
        var controlInOffer = world.Statement();
        controlInOffer.Lines[0].OfferId = world.OfferId + "\u0000";

        Status[] statuses =
        [
            await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(trailingSpace, options)),
            await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(controlInEvent, options)),
            await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(controlInClub, options)),
            await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(controlInOffer, options)),
        ];
        var next = await world.Partner.CallAsync((client, options) => client.SubmitStatementAsync(world.Statement(), options));

        Assert.All(statuses, status => Assert.Equal(StatusCode.InvalidArgument, status.StatusCode));
        Assert.StartsWith("event_ids:", statuses[0].Detail, StringComparison.Ordinal);
        Assert.StartsWith("event_ids:", statuses[1].Detail, StringComparison.Ordinal);
        Assert.StartsWith("club_id:", statuses[2].Detail, StringComparison.Ordinal);
        Assert.StartsWith("lines.offer_id:", statuses[3].Detail, StringComparison.Ordinal);
        // Nothing of the refused submissions was stored: the next one is the month's first revision.
        Assert.Equal(1, next.Revision);
    }

    [Fact]
    public async Task SubmitStatement_takes_a_negative_net_line_and_refuses_a_total_beyond_the_bound_below_zero()
    {
        var world = await NewClubAsync();
        // What a month looks like whose one event cancels an earlier month's 30 EUR purchase (3 EUR off).
        var negative = world.Statement();
        negative.Lines[0].RedemptionCount = -1;
        negative.Lines[0].PurchaseTotalCents = -3_000;
        negative.Lines[0].DiscountTotalCents = -300;
        var beyond = world.Statement();
        beyond.Lines[0].DiscountTotalCents = -1_000_000_000_001;

        var taken = await world.Partner.CallAsync((client, options) => client.SubmitStatementAsync(negative, options));
        var refused = await world.Partner.FailsAsync((client, options) => client.SubmitStatementAsync(beyond, options));
        var report = (await world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October, DryRun = true }, world.ClubAdminOptions())
            .ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;

        Assert.Equal(1, taken.Revision);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("either way", refused.Detail, StringComparison.Ordinal);
        // The hub accepted nothing in October, so the line is compared as sent: -1 against 0.
        var mismatch = Assert.Single(report.Discrepancies, item => item.Kind == DiscrepancyKind.AmountMismatch);
        Assert.Equal((0L, -300L, 0L, -1L), (mismatch.ExpectedCents, mismatch.ActualCents, mismatch.ExpectedCount, mismatch.ActualCount));
    }

    [Fact]
    public async Task SubmitStatement_as_json_over_http1_is_the_same_rpc_and_a_foreign_offer_is_403_with_the_reason()
    {
        var world = await NewClubAsync();
        var other = await NewClubAsync();
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        var (status, json) = await PostStatementAsync(http, world, world.OfferId);
        var (refusedStatus, refusal) = await PostStatementAsync(http, world, other.OfferId);
        var next = await world.Partner.CallAsync((client, options) => client.SubmitStatementAsync(world.Statement(), options));

        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Equal((1, 1, October), (json.GetProperty("revision").GetInt32(), json.GetProperty("lines").GetInt32(), json.GetProperty("period").GetString()));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refusedStatus);
        Assert.Equal((int)StatusCode.PermissionDenied, refusal.GetProperty("code").GetInt32());
        Assert.Contains(other.OfferId, refusal.GetProperty("message").GetString(), StringComparison.Ordinal);
        // The JSON submission is the first revision of the month; the refused one recorded nothing.
        Assert.Equal(2, next.Revision);
    }

    private async Task<(System.Net.HttpStatusCode Status, System.Text.Json.JsonElement Body)> PostStatementAsync(HttpClient http, ClubWorld world, string offerId)
    {
        var body = $$"""{"clubId":"{{world.ClubId}}","period":"{{October}}","lines":[{"offerId":"{{offerId}}","redemptionCount":1,"purchaseTotalCents":"3000","discountTotalCents":300}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Hub.HttpAddress, "/v1/statements"))
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", world.PartnerToken);
        using var response = await http.SendAsync(request, TestTimeouts.Token());
        var text = await response.Content.ReadAsStringAsync(TestTimeouts.Token());
        return (response.StatusCode, System.Text.Json.JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Records a run of October as the club's administrator; its report.</summary>
    private static async Task<ReconciliationReport> RecordRunAsync(ClubWorld world)
    {
        using var call = world.ClubAdminClient.RunReconciliation(new RunReconciliationRequest { ClubId = world.ClubId, Period = October }, world.ClubAdminOptions());
        var report = (await call.ResponseStream.ReadAllAsync().ToListAsync())[^1].Report;
        Assert.NotEmpty(report.RunId);
        return report;
    }

    private async Task<ClubWorld> NewClubAsync()
    {
        var landlord = await Admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await Admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var bakery = await Admin.CreatePartnerAsync(SampleData.Bakery());
        var contract = await Admin.CreateContractAsync(SampleData.Contract(club.Id, bakery.Id));
        var offer = await Admin.CreateOfferAsync(new CreateOfferRequest
        {
            Id = SampleData.Slug("offer"),
            ContractId = contract.Id,
            Title = "10 % off bread",
            Terms = SampleData.TenPercentCappedAt(500),
        });
        var clubAdmin = await Admin.RegisterClubAdminAsync(club.Id);
        var partner = await Admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Partner,
            DisplayName = "Bakery",
            PartnerId = bakery.Id,
            Scopes = { "hlmhub.statements" },
        }, options));
        var adminToken = await Hub.GetTokenAsync(clubAdmin.Client.ClientId, clubAdmin.ClientSecret);
        var partnerToken = await Hub.GetTokenAsync(partner.Client.ClientId, partner.ClientSecret);
        return new ClubWorld(
            club.Id,
            bakery.Id,
            contract.Id,
            offer.Id,
            Hub.Admin(adminToken),
            new AdminService.AdminServiceClient(Hub.Channel),
            adminToken,
            new ServiceClient<StatementService.StatementServiceClient>(new StatementService.StatementServiceClient(Hub.Channel), partnerToken),
            partnerToken);
    }

    private sealed record ClubWorld(
        string ClubId,
        string PartnerId,
        string ContractId,
        string OfferId,
        AdminClient ClubAdmin,
        AdminService.AdminServiceClient ClubAdminClient,
        string ClubAdminToken,
        ServiceClient<StatementService.StatementServiceClient> Partner,
        string PartnerToken)
    {
        public CallOptions ClubAdminOptions() =>
            new(new Metadata { { "authorization", "Bearer " + ClubAdminToken } }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default));

        public SubmitStatementRequest Statement() => new()
        {
            ClubId = ClubId,
            Period = October,
            Lines = { new StatementLine { OfferId = OfferId, RedemptionCount = 1, PurchaseTotalCents = 3_000, DiscountTotalCents = 300 } },
            EventIds = { "ev-1", "ev-2" },
        };
    }
}
