using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Domain;
using HlmHub.Server.Features.Fees;
using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

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
