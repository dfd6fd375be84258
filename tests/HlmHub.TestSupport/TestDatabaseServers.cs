using Xunit;

namespace HlmHub.TestSupport;

/// <summary>
/// The database servers the tests may use, named by environment variables: <c>HLMHUB_TEST_POSTGRES</c> (set by
/// tools/test.sh, which starts a throw-away PostgreSQL) and <c>HLMHUB_TEST_SQLSERVER</c> (set by whoever has a SQL
/// Server: no SQL Server can run on the development machines, see docs/storage.md). Each is a connection string
/// with the right to create and drop databases.
/// </summary>
public static class TestDatabaseServers
{
    public const string PostgresVariable = "HLMHUB_TEST_POSTGRES";

    public const string SqlServerVariable = "HLMHUB_TEST_SQLSERVER";

    /// <summary>Why the SQL Server tests do not run, printed by each of them as its skip reason.</summary>
    public const string SqlServerSkipReason =
        SqlServerVariable + " is not set, so this test did not run against a live SQL Server (none can run on this machine). " +
        "To run it: HLMHUB_TEST_SQLSERVER='Server=...;User ID=...;Password=...;TrustServerCertificate=true' dotnet test tests/HlmHub.Storage.Tests (docs/storage.md).";

    public static string Postgres =>
        Read(PostgresVariable)
        ?? throw new InvalidOperationException(
            $"{PostgresVariable} is not set: the PostgreSQL tests need a server. Run them through tools/test.sh, " +
            "or `source tools/postgres.sh; postgres_start` in the same shell before `dotnet test`.");

    /// <summary>The SQL Server connection string; skips the calling test (with the reason above) when there is none.</summary>
    public static string SqlServer
    {
        get
        {
            var connectionString = Read(SqlServerVariable);
            Skip.If(connectionString is null, SqlServerSkipReason);
            return connectionString!;
        }
    }

    public static bool SqlServerAvailable => Read(SqlServerVariable) is not null;

    private static string? Read(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
