using System.Data.Common;
using HlmHub.Storage;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.Server.Hosting;

/// <summary>
/// A hub whose database fails it while starting (applying or checking the migrations, bootstrapping identity) stops
/// with one line on standard error instead of the runtime's crash report (SIGABRT, exit 134, two stack traces, and a
/// core dump where the machine collects them). Two kinds, two exit codes:
/// <list type="bullet">
/// <item>the database refused the settings (a wrong password or user, a database that does not exist, a SQLite file
/// that cannot be opened): a configuration error, <see cref="ConfigurationErrors.ExitCode"/>;</item>
/// <item>the database could not be reached or was busy (refused or timed-out connection, server shutting down):
/// <see cref="UnavailableExitCode"/>, so a supervisor restarts the hub once the database is back.</item>
/// </list>
/// The line quotes the driver's message, never the connection string (which holds the password).
/// </summary>
internal static class DatabaseStartupErrors
{
    /// <summary>The exit code of a hub whose database could not be reached at start-up (EX_UNAVAILABLE in sysexits.h).</summary>
    public const int UnavailableExitCode = 69;

    /// <summary>The line and exit code for <paramref name="exception"/>, or null when it is no database failure.</summary>
    public static (string Line, int ExitCode)? Describe(Exception exception)
    {
        // The driver's own exception, however the host or EF Core wrapped it (EF Core's retrying strategy, for one).
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (Refused(current) is { } refusal)
            {
                return ($"hlmhub: invalid configuration: ConnectionStrings:HlmHub: the database refused it ({refusal}) (docs/configuration.md lists every setting)",
                    ConfigurationErrors.ExitCode);
            }

            if (current is DbException && StorageErrors.IsTransient(current))
            {
                return ($"hlmhub: the database could not be reached at start-up ({Cause(current)}); check that it runs and that ConnectionStrings:HlmHub names it, then start the hub again",
                    UnavailableExitCode);
            }
        }

        return null;
    }

    // What the server or the driver said when it turned the settings down: the message names the user or the database,
    // never the password.
    private static string? Refused(Exception exception) => exception switch
    {
        // Class 28, invalid authorization (28P01 wrong password, 28000 no such role or no pg_hba entry); 3D000, no such
        // database.
        PostgresException postgres when postgres.SqlState.StartsWith("28", StringComparison.Ordinal) || postgres.SqlState == PostgresErrorCodes.InvalidCatalogName =>
            $"{postgres.SqlState}: {postgres.MessageText}",
        // 18456 login failed, 4060 cannot open the database the login requested (no SQL Server runs here: untested).
        SqlException { Number: 18456 or 4060 } sql => sql.Message,
        // SQLITE_CANTOPEN (14): the file or its directory cannot be created or opened (Storage:DataDirectory too).
        SqliteException { SqliteErrorCode: 14 } sqlite => $"{sqlite.Message.TrimEnd('.')}; check Storage:DataDirectory and its permissions",
        _ => null,
    };

    private static string Cause(Exception exception)
    {
        var innermost = exception;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return ReferenceEquals(innermost, exception)
            ? exception.Message.TrimEnd('.')
            : $"{exception.Message.TrimEnd('.')}: {innermost.Message.TrimEnd('.')}";
    }
}
