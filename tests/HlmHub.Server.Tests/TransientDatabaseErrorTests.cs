using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.Server.Tests;

/// <summary>
/// A database that cannot serve a call within the command time-out (a row, or the SQLite file, held by another session)
/// is a transient failure: the client is answered UNAVAILABLE, which docs/transport.md tells it to retry, not INTERNAL
/// ("a bug"), and the hub logs a warning, not an error (disposing the hub fails the test on an error log). Once the
/// lock is released, the same call succeeds. The command time-out is lowered to one second so the test does not wait
/// out the default 30.
/// </summary>
public sealed class TransientDatabaseErrorTests
{
    [Fact]
    public async Task AContractRowLockedPastTheCommandTimeout_OnPostgres_IsUnavailable_AndTheRetrySucceeds()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Postgres);
        var shortTimeout = new NpgsqlConnectionStringBuilder(database.ConnectionString) { CommandTimeout = 1 }.ConnectionString;
        await using var hub = await HubHost.StartAsync(database, $"--ConnectionStrings:HlmHub={shortTimeout}");
        var admin = await hub.HubAdminAsync();
        var contract = await NewContractAsync(admin);

        Status refused;
        await using (await PostgresHold.LockContractAsync(database.ConnectionString, contract.Id))
        {
            refused = await admin.FailsAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = contract.Id }, options));
        }

        var retried = await admin.CallAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = contract.Id }, options));
        Assert.Equal((StatusCode.Unavailable, "The database is busy or unreachable: retry the call later."), (refused.StatusCode, refused.Detail));
        Assert.Equal(ContractStatus.Suspended, retried.Status);
        Assert.Contains(hub.Logs, record => record.EventId.Name == "DatabaseUnavailable" && record.Level == LogLevel.Warning);
    }

    // The registry read every failed insert of a client it could not then find as a refused registration: a busy
    // database was answered INVALID_ARGUMENT ("do not retry") quoting EF Core's "An error occurred while saving the
    // entity changes".
    [Fact]
    public async Task AClientRegistrationWhileTheSqliteFileIsLockedPastTheCommandTimeout_IsUnavailable_NotInvalid_AndTheRetrySucceeds()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        var file = Path.Combine(database.DataDirectory, HlmHub.Storage.StorageOptions.DefaultSqliteFileName);
        var shortTimeout = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 1 }.ConnectionString;
        await using var hub = await HubHost.StartAsync(database, $"--ConnectionStrings:HlmHub={shortTimeout}");
        var admin = await hub.HubAdminAsync();
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var registration = new RegisterClientRequest
        {
            Kind = ClientKind.Admin, DisplayName = "Club admin", ClientId = SampleData.Slug("club-admin"), ClubId = club.Id, Scopes = { "hlmhub.admin" },
        };

        var refused = await WhileTheFileIsLockedAsync(file, () => admin.FailsAsync((client, options) => client.RegisterClientAsync(registration, options)));

        var retried = await admin.CallAsync((client, options) => client.RegisterClientAsync(registration, options));
        Assert.Equal((StatusCode.Unavailable, "The database is busy or unreachable: retry the call later."), (refused.StatusCode, refused.Detail));
        Assert.Equal(registration.ClientId, retried.Client.ClientId);
        Assert.NotEmpty(retried.ClientSecret);
    }

    [Fact]
    public async Task TheSqliteFileLockedPastTheCommandTimeout_IsUnavailable_AndTheRetrySucceeds()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        var file = Path.Combine(database.DataDirectory, HlmHub.Storage.StorageOptions.DefaultSqliteFileName);
        var shortTimeout = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 1 }.ConnectionString;
        await using var hub = await HubHost.StartAsync(database, $"--ConnectionStrings:HlmHub={shortTimeout}");
        var admin = await hub.HubAdminAsync();
        var contract = await NewContractAsync(admin);

        var refused = await WhileTheFileIsLockedAsync(
            file, () => admin.FailsAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = contract.Id }, options)));

        var retried = await admin.CallAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = contract.Id }, options));
        Assert.Equal((StatusCode.Unavailable, "The database is busy or unreachable: retry the call later."), (refused.StatusCode, refused.Detail));
        Assert.Equal(ContractStatus.Suspended, retried.Status);
    }

    /// <summary>Runs <paramref name="call"/> while another connection holds the SQLite file's write lock.</summary>
    private static async Task<T> WhileTheFileIsLockedAsync<T>(string file, Func<Task<T>> call)
    {
        await using var writer = new SqliteConnection($"Data Source={file}");
        await writer.OpenAsync();
        await using var holdWriteLock = writer.CreateCommand();
        holdWriteLock.CommandText = "BEGIN IMMEDIATE;";
        await holdWriteLock.ExecuteNonQueryAsync();
        var result = await call();
        holdWriteLock.CommandText = "ROLLBACK;";
        await holdWriteLock.ExecuteNonQueryAsync();
        return result;
    }

    private static async Task<Contract> NewContractAsync(AdminClient admin)
    {
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var bakery = await admin.CreatePartnerAsync(SampleData.Bakery());
        return await admin.CreateContractAsync(SampleData.Contract(club.Id, bakery.Id));
    }
}
