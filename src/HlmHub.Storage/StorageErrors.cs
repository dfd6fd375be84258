using HlmHub.Storage.Providers;

namespace HlmHub.Storage;

/// <summary>Recognises database errors a caller can act on, whatever the provider.</summary>
public static class StorageErrors
{
    /// <summary>
    /// Whether <paramref name="error"/> (usually a <c>DbUpdateException</c>) was caused by a unique index or key,
    /// e.g. a retried partner event or two admins adding a plumber at once: the caller reads the winner's row
    /// instead of failing. PostgreSQL and SQL Server name the index (<see cref="IndexNames"/>) in the message;
    /// SQLite names its columns.
    /// </summary>
    public static bool IsUniqueViolation(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            if (StorageProviderAdapter.All.Any(adapter => adapter.IsUniqueViolation(current)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="error"/> or one of its inner exceptions says the database could not serve the call now
    /// but may on a retry (busy or locked past the command time-out, a deadlock victim, unreachable): the caller should
    /// retry later rather than read it as a bug.
    /// </summary>
    public static bool IsTransient(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            if (StorageProviderAdapter.All.Any(adapter => adapter.IsTransient(current)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="error"/> or one of its inner exceptions is the database refusing a ledger transaction
    /// booked into a month the club has closed (the <c>TR_LedgerTransactions_OpenPeriodOnly</c> guard of each provider's
    /// migrations). A writer reads the closed months, then books: a month closed in between is refused here, with
    /// nothing written. It is a lost race, not a bug: booked again, the booking goes to the next open month.
    /// </summary>
    public static bool IsPeriodClosed(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            if (StorageProviderAdapter.All.Any(adapter => adapter.IsPeriodClosed(current)))
            {
                return true;
            }
        }

        return false;
    }
}
