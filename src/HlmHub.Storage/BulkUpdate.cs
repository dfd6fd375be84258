using System.Data.Common;
using System.Text;
using HlmHub.Storage.Internal;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace HlmHub.Storage;

/// <summary>
/// Writes chosen columns of many existing rows of one entity, found by primary key, with one
/// <c>UPDATE … FROM (VALUES (…), (…))</c> statement per few dozen rows, in the context's current transaction.
/// <c>SaveChanges</c> sends one <c>UPDATE</c> per entity, which EF Core builds and the database parses one by one:
/// for a roster delta of 1,000 households that was the largest part of the batch (docs/benchmarks.md, the roster
/// delta). EF Core's <c>ExecuteUpdate</c> sets the same value on every row it matches, not a value per row. Column
/// names, value conversions and parameter types come from the EF Core model and the provider's type mappings, as in
/// <see cref="BulkInsert"/>, so a value is stored exactly as <c>SaveChanges</c> would store it.
/// </summary>
public static class BulkUpdate
{
    /// <summary>
    /// Sets <paramref name="properties"/> of each of <paramref name="rows"/> to the row's current values, matching rows
    /// by primary key (a single-column key, each row once). Needs an open transaction. A row that is not in the table
    /// fails the call with a <see cref="DbUpdateConcurrencyException"/>, as <c>SaveChanges</c> does for a tracked update
    /// that matched nothing; a constraint failure is a <see cref="DbUpdateException"/>. The rows are not tracked.
    /// </summary>
    public static async Task UpdateAllAsync<T>(this DbContext db, IReadOnlyList<T> rows, IReadOnlyList<string> properties, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(rows);
        var (table, columns) = Columns<T>(db, properties);
        if (rows.Count == 0)
        {
            return;
        }

        var key = columns[0].Property.GetGetter();
        var keys = new HashSet<object>();
        foreach (var row in rows)
        {
            if (!keys.Add(key.GetClrValue(row)!))
            {
                throw new ArgumentException($"{typeof(T).Name} {key.GetClrValue(row)} is listed twice: one statement sets each row once.", nameof(rows));
            }
        }

        int affected;
        try
        {
            affected = await BulkStatements.ExecuteAsync(
                db, "update:" + string.Join(',', properties), columns, count => Text(db, table, columns, count),
                [.. rows.Chunk(BulkStatements.RowsPerStatement(db, columns.Count))], cancellationToken);
        }
        catch (DbException exception)
        {
            throw new DbUpdateException($"Updating {rows.Count} {typeof(T).Name} row(s) of {table.Name} failed: {exception.Message}", exception);
        }

        if (affected != rows.Count)
        {
            throw new DbUpdateConcurrencyException(
                $"Updating {rows.Count} {typeof(T).Name} row(s) of {table.Name} matched {affected}: a row is not in the table.");
        }
    }

    /// <summary>
    /// Writes the statement for <paramref name="count"/> rows from <paramref name="first"/> into
    /// <paramref name="command"/>: its text and one parameter per value (each row's key, then
    /// <paramref name="properties"/>). Public so that the SQL a provider gets can be checked without its server (SQL
    /// Server here).
    /// </summary>
    public static void Fill<T>(DbCommand command, DbContext db, IReadOnlyList<T> rows, IReadOnlyList<string> properties, int first, int count)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(command);
        var (table, columns) = Columns<T>(db, properties);
        command.CommandText = Text(db, table, columns, count);
        BulkStatements.AddParameters(command, command.Parameters, db, columns, rows, first, count);
    }

    /// <summary>How many rows one statement carries when it sets <paramref name="properties"/> of <typeparamref name="T"/>.</summary>
    public static int RowsPerStatement<T>(DbContext db, IReadOnlyList<string> properties)
        where T : class =>
        BulkStatements.RowsPerStatement(db, Columns<T>(db, properties).Columns.Count);

    // The key column first, then the columns to set, in the caller's order: the order of each row's parameters.
    private static (MappedTable Table, IReadOnlyList<MappedColumn> Columns) Columns<T>(DbContext db, IReadOnlyList<string> properties)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(properties);
        var table = BulkStatements.Table<T>(db);
        if (table.Key.Count != 1)
        {
            throw new InvalidOperationException($"{typeof(T).Name} has a key of {table.Key.Count} columns: BulkUpdate matches rows by a single-column key.");
        }

        if (properties.Count == 0 || properties.Distinct(StringComparer.Ordinal).Count() != properties.Count)
        {
            throw new ArgumentException("Name each property to set once, and at least one.", nameof(properties));
        }

        var set = properties.Select(table.Column).ToList();
        if (set.Contains(table.Key[0]))
        {
            throw new ArgumentException($"{table.Key[0].Property.Name} is the key: rows are found by it, not set.", nameof(properties));
        }

        return (table, [table.Key[0], .. set]);
    }

    /// <summary>
    /// The statement for <paramref name="count"/> rows. The rows travel as a table value constructor whose columns are
    /// column1, column2… (the names SQLite and PostgreSQL give a <c>VALUES</c> list's columns; SQL Server needs them
    /// declared, and gets the same names), joined to the table on the key.
    /// </summary>
    private static string Text(DbContext db, MappedTable table, IReadOnlyList<MappedColumn> columns, int count)
    {
        var sql = db.GetService<ISqlGenerationHelper>();
        var target = sql.DelimitIdentifier("t");
        var values = sql.DelimitIdentifier("v");
        string ValueColumn(int index) => sql.DelimitIdentifier("column" + (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        var assignments = string.Join(", ", columns.Skip(1).Select((column, index) => $"{sql.DelimitIdentifier(column.Name)} = {values}.{ValueColumn(index + 1)}"));
        var rows = new StringBuilder("(VALUES ");
        for (var row = 0; row < count; row++)
        {
            rows.Append(row == 0 ? "(" : ", (");
            for (var index = 0; index < columns.Count; index++)
            {
                rows.Append(index == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(BulkStatements.ParameterName(columns.Count, row, index)));
            }

            rows.Append(')');
        }

        rows.Append(')');
        var match = $"{target}.{sql.DelimitIdentifier(columns[0].Name)} = {values}.{ValueColumn(0)}";
        if (db.Database.IsSqlServer())
        {
            var declared = string.Join(", ", columns.Select((_, index) => ValueColumn(index)));
            return $"UPDATE {target} SET {assignments} FROM {sql.DelimitIdentifier(table.Name, table.Schema)} AS {target} " +
                $"INNER JOIN {rows} AS {values} ({declared}) ON {match}";
        }

        return $"UPDATE {sql.DelimitIdentifier(table.Name, table.Schema)} AS {target} SET {assignments} FROM {rows} AS {values} WHERE {match}";
    }
}
