using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using HlmHub.Storage.Internal;

namespace HlmHub.Storage;

/// <summary>
/// Inserts many new rows of one entity with multi-row <c>INSERT … VALUES (…), (…)</c> statements, in the context's
/// current transaction. <c>SaveChanges</c> sends one <c>INSERT</c> per entity, which EF Core sorts and builds one by
/// one and the database parses one by one: for a roster batch of 1,000 new households that was more time than the
/// database's own work (docs/benchmarks.md, the roster profile). Columns, names, value conversions and parameter
/// types all come from the EF Core model and the provider's type mappings, so a row is stored exactly as
/// <c>SaveChanges</c> would store it. The entities are not tracked afterwards.
/// </summary>
public static class BulkInsert
{
    /// <summary>
    /// Parameters per statement on a server database. Far below every server's limit (SQL Server 2,100, PostgreSQL
    /// 65,535), and at most 256 rows, under the 1,000 rows of SQL Server's table value constructor.
    /// </summary>
    public const int MaxParametersPerStatement = 256;

    /// <summary>
    /// Parameters per statement on SQLite (whose limit is 32,766). Microsoft.Data.Sqlite binds each parameter by
    /// name, and SQLite finds a name by scanning the statement's names, a cost that grows with the square of their
    /// number; fewer parameters mean more statements, and 64 to 100 cost least (docs/benchmarks.md). 100 is also the
    /// smallest that keeps a ledger transaction's largest set of entries in one statement (<see cref="LedgerInserts"/>).
    /// </summary>
    public const int SqliteMaxParametersPerStatement = 100;

    /// <summary>
    /// Inserts <paramref name="rows"/> (new entities of a type the model maps to one table, every column set by the
    /// application: no store-generated values, no shadow properties). A failure, such as a unique violation, is a
    /// <see cref="DbUpdateException"/> as from <c>SaveChanges</c>, so callers and the error mapping treat both alike.
    /// Needs an open transaction: the rows commit or roll back with the rest of the caller's work.
    /// </summary>
    public static Task InsertAllAsync<T>(this DbContext db, IReadOnlyList<T> rows, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(rows);
        return db.InsertStatementsAsync<T>([.. rows.Chunk(RowsPerStatement<T>(db))], cancellationToken);
    }

    /// <summary>
    /// Inserts rows as <see cref="InsertAllAsync{T}"/> does, one statement per list of <paramref name="statements"/>
    /// (each of at most <see cref="RowsPerStatement{T}(DbContext)"/> rows), in that order: for a caller that must
    /// choose where statements end (<see cref="LedgerInserts"/>). A server database gets them all in one round trip
    /// (an ADO.NET batch); SQLite, in process, runs each statement, compiled once per opening of its connection.
    /// </summary>
    public static async Task InsertStatementsAsync<T>(this DbContext db, IReadOnlyList<IReadOnlyList<T>> statements, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(statements);
        var table = BulkStatements.Table<T>(db);
        var rowsPerStatement = BulkStatements.RowsPerStatement(db, table.Columns.Count);
        if (statements.FirstOrDefault(rows => rows.Count > rowsPerStatement) is { } tooLong)
        {
            throw new ArgumentException($"A statement of {tooLong.Count} {typeof(T).Name} rows: at most {rowsPerStatement} fit in one.", nameof(statements));
        }

        var nonEmpty = statements.Where(rows => rows.Count > 0).ToList();
        if (nonEmpty.Count == 0)
        {
            return;
        }

        try
        {
            await BulkStatements.ExecuteAsync(db, "insert", table.Columns, count => Text(db, table, count), nonEmpty, cancellationToken);
        }
        catch (DbException exception)
        {
            throw new DbUpdateException(
                $"Inserting {nonEmpty.Sum(rows => rows.Count)} {typeof(T).Name} row(s) into {table.Name} failed: {exception.Message}", exception);
        }
    }

    /// <summary>How many rows of <typeparamref name="T"/> one statement carries: a list of at most this many is one statement.</summary>
    public static int RowsPerStatement<T>(DbContext db)
        where T : class =>
        BulkStatements.RowsPerStatement(db, BulkStatements.Table<T>(db).Columns.Count);

    /// <summary>
    /// Writes the statement for <paramref name="count"/> rows from <paramref name="first"/> into
    /// <paramref name="command"/>: its text and one parameter per value. Public so that the SQL a provider gets can
    /// be checked without its server (SQL Server here).
    /// </summary>
    public static void Fill<T>(DbCommand command, DbContext db, IReadOnlyList<T> rows, int first, int count)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(command);
        var table = BulkStatements.Table<T>(db);
        command.CommandText = Text(db, table, count);
        BulkStatements.AddParameters(command, command.Parameters, db, table.Columns, rows, first, count);
    }

    /// <summary>The statement's text for <paramref name="count"/> rows: parameters p0, p1… row after row.</summary>
    private static string Text(DbContext db, MappedTable table, int count)
    {
        var sql = db.GetService<ISqlGenerationHelper>();
        var text = new StringBuilder("INSERT INTO ")
            .Append(sql.DelimitIdentifier(table.Name, table.Schema))
            .Append(" (")
            .AppendJoin(", ", table.Columns.Select(column => sql.DelimitIdentifier(column.Name)))
            .Append(") VALUES ");
        for (var row = 0; row < count; row++)
        {
            text.Append(row == 0 ? "(" : ", (");
            for (var index = 0; index < table.Columns.Count; index++)
            {
                text.Append(index == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(BulkStatements.ParameterName(table.Columns.Count, row, index)));
            }

            text.Append(')');
        }

        return text.ToString();
    }
}
