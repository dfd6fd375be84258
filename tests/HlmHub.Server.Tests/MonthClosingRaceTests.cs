using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Domain;
using HlmHub.Server.Features.Fees;
using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using System.Diagnostics;

namespace HlmHub.Server.Tests;

/// <summary>
/// A writer that books into the ledger races the club closing the month it books in: the month is closed by a
/// connection of the test's own (<see cref="MonthClosingHold"/>) after the writer read the closed months and before its
/// booking is written, so the database's closed-month guard refuses the booking. The hub answers a client ABORTED (a
/// lost race it may retry; its retry books in the next open month), not INTERNAL, with nothing written; the fee accrual
/// job reads the closed months again and books the fee in the next open month. The writer is seen to have read the
/// closed months in the hub's EF Core command log.
/// </summary>
public abstract class MonthClosingRaceTests(StorageProvider provider)
{
    private static readonly string[] CommandLog = ["--Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command=Information", "--Scheduling:Enabled=false"];

    [Fact]
    public async Task AFeePaymentWhoseMonthIsClosedWhileItBooks_IsAbortedWithNothingWritten_AndItsRetryBooksItInTheNextOpenMonth()
    {
        await using var database = await TestDatabase.CreateAsync(provider == StorageProvider.Sqlite ? TestProvider.Sqlite : TestProvider.Postgres);
        await using var hub = await HubHost.StartAsync(database, CommandLog);
        var admin = await hub.HubAdminAsync();
        var contract = await NewContractAsync(admin);
        var paidMonth = Period.Of(TimeProvider.System.GetUtcNow()).Previous();
        var request = new RecordFeePaymentRequest
        {
            ContractId = contract.Id,
            PaymentReference = "VIR-RACE-1",
            AmountCents = 10_000,
            PaidAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(paidMonth.Year, paidMonth.Month, 10, 10, 0, 0, TimeSpan.Zero)),
        };

        Status refused;
        await using (var closing = await MonthClosingHold.BeginAsync(provider, database.ConnectionString, contract.ClubId, paidMonth.Key))
        {
            var readsBefore = ClosedMonthReads(hub);
            var paying = admin.FailsAsync((client, options) => client.RecordFeePaymentAsync(request, options));
            await Poll.UntilAsync(() => ClosedMonthReads(hub) > readsBefore || paying.IsCompleted, "for the payment to read the club's closed months");
            await closing.CommitAsync();
            refused = await paying;
        }

        var retried = await admin.CallAsync((client, options) => client.RecordFeePaymentAsync(request, options));
        Assert.Equal(StatusCode.Aborted, refused.StatusCode);
        Assert.Equal(
            "The month this was booked in was closed while the call was booking it; nothing was recorded: retry the call, and the retry books it in the next open month.",
            refused.Detail);
        Assert.False(retried.AlreadyRecorded);
        Assert.Equal(paidMonth.Next().ToString(), retried.Period);
        Assert.Equal(1, await LedgerTransactionsAsync(hub, contract.ClubId));
        Assert.Contains(hub.Logs, record => record.EventId.Name == "PeriodClosedWhileBooking");
    }

    [Fact]
    public async Task AFeeWhoseMonthIsClosedWhileTheAccrualBooksIt_IsBookedInTheNextOpenMonth()
    {
        await using var database = await TestDatabase.CreateAsync(provider == StorageProvider.Sqlite ? TestProvider.Sqlite : TestProvider.Postgres);
        await using var hub = await HubHost.StartAsync(database, CommandLog);
        var admin = await hub.HubAdminAsync();
        var contract = await NewContractAsync(admin);
        var dueMonth = Period.Parse("start_date", contract.StartDate[..7]);

        FeeAccrualResult result;
        await using (var closing = await MonthClosingHold.BeginAsync(provider, database.ConnectionString, contract.ClubId, dueMonth.Key))
        {
            var readsBefore = ClosedMonthReads(hub);
            // On a thread of its own: Microsoft.Data.Sqlite runs "async" commands synchronously, so the accrual would
            // otherwise hold this thread while it waits for SQLite's write lock.
            var accrual = hub.Services.GetRequiredService<FeeAccrualService>();
            var accruing = Task.Run(() => accrual.AccrueAsync(contract.ClubId, TestTimeouts.Token()));
            await Poll.UntilAsync(() => ClosedMonthReads(hub) > readsBefore || accruing.IsCompleted, "for the accrual to read the club's closed months");
            await closing.CommitAsync();
            result = await accruing.DefaultTimeout();
        }

        await using var db = await hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync(TestTimeouts.Token());
        var booked = await db.LedgerTransactions.AsNoTracking().Where(transaction => transaction.ClubId == contract.ClubId).ToListAsync(TestTimeouts.Token());
        Assert.Equal(1, result.Booked);
        Assert.Equal(dueMonth.Next(), Assert.Single(booked).Period);
    }

    /// <summary>
    /// A close and a booking of the same club exclude each other (RowLocks): a statement submitted while the month is
    /// closed either commits before the close checks the month (whose dry run then sees it, and the close is refused as
    /// changed since the recorded run), or after the closure (and is refused as for a closed month); never committed
    /// into the closed month unseen. PostgreSQL: the statement is held at its INSERT (a SHARE lock on Statements) after it
    /// read the month as open, and the close starts meanwhile. SQLite: both wait for the file's write lock; once both
    /// are waiting (or have had the time to get as far as they can), it is released. Before the lock, both committed:
    /// the month was closed, and held a statement its recorded run had not seen.
    /// </summary>
    [Fact]
    public async Task AStatementSubmittedWhileTheMonthIsClosed_IsSeenByTheCloseOrRefused_NeverCommittedIntoTheClosedMonthUnseen()
    {
        await using var database = await TestDatabase.CreateAsync(provider == StorageProvider.Sqlite ? TestProvider.Sqlite : TestProvider.Postgres);
        await using var hub = await HubHost.StartAsync(database, CommandLog);
        var admin = await hub.HubAdminAsync();
        var world = await RedemptionWorld.CreateAsync(hub, admin);
        var month = Period.Of(TimeProvider.System.GetUtcNow()).Previous();
        var member = await world.AddMemberAsync();
        Assert.Equal(month.ToString(), (await world.RedeemAsync(world.Event(member, 2_000, 200, occurredAt: month.StartUtc.AddDays(3)))).Period);
        var clubAdmin = await admin.RegisterClubAdminAsync(world.ClubId);
        var clubAdminToken = await hub.GetTokenAsync(clubAdmin.Client.ClientId, clubAdmin.ClientSecret);
        var run = await RunAsync(hub, clubAdminToken, world.ClubId, month, dryRun: false);
        var partnerToken = await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.statements");
        var statements = new StatementService.StatementServiceClient(hub.Channel);
        var statement = new SubmitStatementRequest
        {
            ClubId = world.ClubId,
            Period = month.ToString(),
            Lines = { new HlmHub.Contracts.V1.StatementLine { OfferId = world.OfferId, RedemptionCount = 1, PurchaseTotalCents = 2_000, DiscountTotalCents = 200 } },
        };
        var closeRequest = new ClosePeriodRequest { ClubId = world.ClubId, Period = month.ToString(), AcceptDiscrepancies = true };

        Task<SubmitStatementResponse> submitting;
        Task<ClosePeriodResponse> closing;
        await using (var hold = await WriteHold.BeginAsync(provider, database.ConnectionString, "Statements"))
        {
            var closedMonthReads = ClosedMonthReads(hub);
            submitting = statements.SubmitStatementAsync(statement, world.Options(partnerToken)).ResponseAsync;
            await UntilOrForAWhileAsync(
                async () => Seen(submitting.IsCompleted || (await hold.SomeoneWaitsAsync("INSERT INTO \"Statements\"") ?? ClosedMonthReads(hub) > closedMonthReads)),
                "for the statement to read the month as open and wait to be written");
            var dryRunsBefore = DryRunsFinished(hub);
            closing = hub.Admin(clubAdminToken).CallAsync((client, options) => client.ClosePeriodAsync(closeRequest, options));
            await UntilOrForAWhileAsync(
                async () => Seen(closing.IsCompleted || (await hold.SomeoneWaitsAsync("FOR UPDATE") ?? DryRunsFinished(hub) > dryRunsBefore)),
                "for the close to check the month, or to wait for the statement");
            await hold.ReleaseAsync();
        }

        var submitted = await Outcome(submitting);
        var closed = await Outcome(closing);
        var now = await RunAsync(hub, clubAdminToken, world.ClubId, month, dryRun: true);

        if (closed.Status is { } refusedClose)
        {
            // The close saw the statement: refused as changed since the run, and the statement stands in the open month.
            Assert.Equal(StatusCode.FailedPrecondition, refusedClose.StatusCode);
            Assert.Contains("changed since reconciliation run", refusedClose.Detail, StringComparison.Ordinal);
            Assert.Null(submitted.Status);
            Assert.False(now.PeriodClosed);
            Assert.Equal(1, now.Statements);
        }
        else
        {
            // The close committed first: the statement was refused, and the closed month is what the run read.
            Assert.Equal(StatusCode.FailedPrecondition, submitted.Status?.StatusCode);
            Assert.Contains("is closed", submitted.Status?.Detail ?? "", StringComparison.Ordinal);
            Assert.True(now.PeriodClosed);
            Assert.Equal((run.Statements, run.Redemptions, run.LedgerTransactions), (now.Statements, now.Redemptions, now.LedgerTransactions));
        }

        if (provider == StorageProvider.Postgres)
        {
            // The statement held the club first: the close waited for it, and saw it.
            Assert.NotNull(closed.Status);
        }
    }

    /// <summary>
    /// A redemption batch that read the club's months as open books into a month whose closure commits before its
    /// insert (a closer that does not take the clubs' month lock, as <see cref="MonthClosingHold"/>: a hub of an earlier
    /// version during an upgrade, a script): the database's guard refuses the batch, which is decided again and books the
    /// redemption in the next open month, as an adjustment; no error is logged (the host fails the test on one). On
    /// SQLite the batch cannot read the months before the closure commits (its transaction waits for the write lock
    /// first): it is booked as an adjustment at once.
    /// </summary>
    [Fact]
    public async Task ARedemptionWhoseMonthIsClosedWhileItsBatchBooks_IsBookedAsAnAdjustmentInTheNextOpenMonth()
    {
        await using var database = await TestDatabase.CreateAsync(provider == StorageProvider.Sqlite ? TestProvider.Sqlite : TestProvider.Postgres);
        await using var hub = await HubHost.StartAsync(database, CommandLog);
        var admin = await hub.HubAdminAsync();
        var world = await RedemptionWorld.CreateAsync(hub, admin);
        var month = Period.Of(TimeProvider.System.GetUtcNow()).Previous();
        var member = await world.AddMemberAsync();
        var late = world.Event(member, 2_000, 200, occurredAt: month.StartUtc.AddDays(3));

        RedemptionAck ack;
        await using (var closingHold = await MonthClosingHold.BeginAsync(provider, database.ConnectionString, world.ClubId, month.Key))
        {
            var readsBefore = ClosedMonthReads(hub);
            var redeeming = world.RedeemAsync(late);
            await UntilOrForAWhileAsync(
                () => Task.FromResult(Seen(redeeming.IsCompleted || (provider == StorageProvider.Postgres && ClosedMonthReads(hub) > readsBefore))),
                "for the batch to read the club's closed months");
            await closingHold.CommitAsync();
            ack = await redeeming;
        }

        await using var db = await world.DbAsync();
        var booked = await db.LedgerTransactions.AsNoTracking().Where(transaction => transaction.ClubId == world.ClubId).ToListAsync(TestTimeouts.Token());
        Assert.Equal((HlmHub.Contracts.V1.RedemptionOutcome.Accepted, true, month.Next().ToString()), (ack.Outcome, ack.Adjustment, ack.Period));
        Assert.Equal(month.Next(), Assert.Single(booked).Period);
        Assert.DoesNotContain(hub.Logs, record => record.Level >= LogLevel.Warning && record.Category.EndsWith(".RedemptionPipeline", StringComparison.Ordinal));
    }

    /// <summary>
    /// True when seen; not seen: false on PostgreSQL (which shows who waits on a lock, so it will be seen), null on SQLite
    /// (a writer waiting for its write lock cannot be seen).
    /// </summary>
    private bool? Seen(bool seen) => seen ? true : provider == StorageProvider.Sqlite ? null : false;

    /// <summary>
    /// Waits until <paramref name="condition"/> holds; when it cannot tell (null: SQLite cannot show who waits for its
    /// write lock), gives the hub a moment to get as far as it can instead.
    /// </summary>
    private static async Task UntilOrForAWhileAsync(Func<Task<bool?>> condition, string what)
    {
        var undecided = Stopwatch.StartNew();
        await Poll.UntilAsync(
            async () => await condition() switch
            {
                true => true,
                false => false,
                null => undecided.Elapsed > TimeSpan.FromSeconds(2),
            },
            what);
    }

    private static async Task<(T? Response, Status? Status)> Outcome<T>(Task<T> call)
        where T : class
    {
        try
        {
            return (await call.DefaultTimeout(), null);
        }
        catch (RpcException exception)
        {
            return (null, exception.Status);
        }
    }

    private static async Task<ReconciliationReport> RunAsync(HubHost hub, string token, string clubId, Period month, bool dryRun)
    {
        var client = new AdminService.AdminServiceClient(hub.Channel);
        using var call = client.RunReconciliation(
            new RunReconciliationRequest { ClubId = clubId, Period = month.ToString(), DryRun = dryRun },
            new CallOptions(new Metadata { { "authorization", "Bearer " + token } }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default)));
        var updates = await call.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();
        return updates[^1].Report;
    }

    private static int DryRunsFinished(HubHost hub) =>
        hub.Logs.Count(record => record.EventId.Id == 4601 && record.Message.Contains("dry run: True", StringComparison.Ordinal));

    private static int ClosedMonthReads(HubHost hub) =>
        hub.Logs.Count(record => record.Category == "Microsoft.EntityFrameworkCore.Database.Command"
            && record.Message.Contains("FROM \"PeriodClosures\"", StringComparison.Ordinal)
            && !record.Message.Contains("INSERT", StringComparison.Ordinal));

    private static async Task<int> LedgerTransactionsAsync(HubHost hub, string clubId)
    {
        await using var db = await hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync(TestTimeouts.Token());
        return await db.LedgerTransactions.CountAsync(transaction => transaction.ClubId == clubId, TestTimeouts.Token());
    }

    private static async Task<HlmHub.Contracts.V1.Contract> NewContractAsync(AdminClient admin)
    {
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var bakery = await admin.CreatePartnerAsync(SampleData.Bakery());
        return await admin.CreateContractAsync(SampleData.Contract(club.Id, bakery.Id));
    }
}

public sealed class SqliteMonthClosingRaceTests() : MonthClosingRaceTests(StorageProvider.Sqlite);

public sealed class PostgresMonthClosingRaceTests() : MonthClosingRaceTests(StorageProvider.Postgres);
