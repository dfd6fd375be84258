using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace HlmHub.Storage.Internal;

/// <summary>
/// What <see cref="BulkInsert"/> and <see cref="BulkUpdate"/> share: the table an entity maps to (from the EF Core
/// model, once per model), parameters made by the provider's type mappings, and running a caller's statements in its
/// transaction, in one round trip where the provider batches and compiled once per opening of a connection on SQLite.
/// </summary>
internal static class BulkStatements
{
    /// <summary>
    /// The statements already made on each open SQLite connection, by statement shape and row count. A connection kept
    /// open across many writes (the redemption group commit keeps one) reuses them, so SQLite compiles each statement
    /// once instead of once per command: compiling was a sixth of the group commit's time (docs/benchmarks.md). They
    /// last until the connection closes (<see cref="ForgetOnClose"/>). One connection is used by one caller at a time,
    /// as ADO.NET requires, so each list needs no lock.
    /// </summary>
    private static readonly ConditionalWeakTable<DbConnection, Dictionary<(Type Entity, string Shape, int Rows), DbCommand>> Prepared = new();

    /// <summary>
    /// Drops a connection's commands when it closes. Closing gives its handle back to Microsoft.Data.Sqlite's pool
    /// and finalizes the statements of the commands made since it opened; opened again, the connection may get
    /// another handle. A command kept across a close is compiled again on the next handle without being registered
    /// with the connection, so the close after that leaves its statements on a handle another connection may take,
    /// and a later opening runs them there, outside this connection's transaction: a roster session (one context over
    /// many transactions) waited on its own write lock for the command time-out, or wrote beside another connection's
    /// work. Commands made afresh after each opening are registered, and finalized by its close.
    /// </summary>
    private static readonly System.Data.StateChangeEventHandler ForgetOnClose = (sender, change) =>
    {
        if (change.CurrentState != System.Data.ConnectionState.Open && sender is DbConnection connection)
        {
            connection.StateChange -= ForgetOnClose;
            Prepared.Remove(connection);
        }
    };

    /// <summary>Each model's mapped tables: reading them from the model is not free, and a model never changes.</summary>
    private static readonly ConditionalWeakTable<IModel, ConcurrentDictionary<Type, MappedTable>> Tables = new();

    /// <summary>How many rows of <paramref name="columns"/> parameters one statement carries on <paramref name="db"/>'s provider.</summary>
    public static int RowsPerStatement(DbContext db, int columns) =>
        Math.Max(1, (db.Database.IsSqlite() ? BulkInsert.SqliteMaxParametersPerStatement : BulkInsert.MaxParametersPerStatement) / Math.Max(1, columns));

    /// <summary>The table <typeparamref name="T"/> maps to, with every column the application sets.</summary>
    public static MappedTable Table<T>(DbContext db) =>
        Tables.GetOrCreateValue(db.Model).GetOrAdd(typeof(T), static (type, model) => Map(model, type), db.Model);

    /// <summary>
    /// Runs <paramref name="statements"/> (rows already cut to fit) in the context's current transaction and returns
    /// the rows they affected. <paramref name="shape"/> names the statement kind for the per-connection cache;
    /// <paramref name="text"/> gives a statement's text for a row count; the parameters are each row's
    /// <paramref name="columns"/>, row after row, named as <see cref="ParameterName"/> says.
    /// </summary>
    public static async Task<int> ExecuteAsync<T>(
        DbContext db, string shape, IReadOnlyList<MappedColumn> columns, Func<int, string> text, IReadOnlyList<IReadOnlyList<T>> statements,
        CancellationToken cancellationToken)
        where T : class
    {
        var transaction = (db.Database.CurrentTransaction
            ?? throw new InvalidOperationException("Bulk statements run inside the caller's transaction: begin one first.")).GetDbTransaction();
        var connection = db.Database.GetDbConnection();
        var timeout = db.Database.GetCommandTimeout();
        if (connection.CanCreateBatch)
        {
            await using var batch = connection.CreateBatch();
            await using var factory = connection.CreateCommand();
            batch.Transaction = transaction;
            if (timeout is { } seconds)
            {
                batch.Timeout = seconds;
            }

            foreach (var rows in statements)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = text(rows.Count);
                AddParameters(factory, command.Parameters, db, columns, rows, 0, rows.Count);
                batch.BatchCommands.Add(command);
            }

            return await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!Prepared.TryGetValue(connection, out var prepared))
        {
            prepared = [];
            Prepared.Add(connection, prepared);
            connection.StateChange += ForgetOnClose;
        }

        var affected = 0;
        foreach (var rows in statements)
        {
            if (!prepared.TryGetValue((typeof(T), shape, rows.Count), out var command))
            {
                command = connection.CreateCommand();
                command.CommandText = text(rows.Count);
                prepared.Add((typeof(T), shape, rows.Count), command);
            }

            command.Transaction = transaction;
            if (timeout is { } seconds)
            {
                command.CommandTimeout = seconds;
            }

            command.Parameters.Clear();
            AddParameters(command, command.Parameters, db, columns, rows, 0, rows.Count);
            affected += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return affected;
    }

    /// <summary>The parameters of <paramref name="count"/> rows, made by <paramref name="factory"/> (a command of the connection) and added to <paramref name="parameters"/>.</summary>
    public static void AddParameters<T>(
        DbCommand factory, DbParameterCollection parameters, DbContext db, IReadOnlyList<MappedColumn> columns, IReadOnlyList<T> rows, int first, int count)
        where T : class
    {
        var sql = db.GetService<ISqlGenerationHelper>();
        for (var row = 0; row < count; row++)
        {
            for (var index = 0; index < columns.Count; index++)
            {
                var column = columns[index];
                var value = column.Property.GetGetter().GetClrValue(rows[first + row]);
                // The provider's mapping converts the value (enum names, cents, Unix milliseconds, SQLite's text
                // GUIDs) and types the parameter, as SaveChanges does.
                parameters.Add(column.Mapping.CreateParameter(factory, sql.GenerateParameterName(ParameterName(columns.Count, row, index)), value, column.Property.IsNullable));
            }
        }
    }

    /// <summary>The name of row <paramref name="row"/>'s value of column <paramref name="column"/>: p0, p1… row after row.</summary>
    public static string ParameterName(int columns, int row, int column) =>
        string.Create(CultureInfo.InvariantCulture, $"p{(row * columns) + column}");

    private static MappedTable Map(IModel model, Type type)
    {
        var entityType = model.FindEntityType(type)
            ?? throw new InvalidOperationException($"{type.Name} is not an entity of this model.");
        var name = entityType.GetTableName()
            ?? throw new InvalidOperationException($"{type.Name} is not mapped to a table.");
        var store = StoreObjectIdentifier.Table(name, entityType.GetSchema());
        var columns = new List<MappedColumn>();
        foreach (var property in entityType.GetProperties())
        {
            if (property.IsShadowProperty() || property.ValueGenerated != ValueGenerated.Never)
            {
                throw new InvalidOperationException(
                    $"{type.Name}.{property.Name} is a shadow or store-generated property: bulk statements only write values the application sets.");
            }

            columns.Add(new MappedColumn(property.GetColumnName(store)!, property, property.GetRelationalTypeMapping()));
        }

        var key = entityType.FindPrimaryKey()?.Properties.Select(property => columns.Single(column => column.Property == property)).ToList() ?? [];
        return new MappedTable(name, entityType.GetSchema(), columns, key);
    }
}

/// <summary>An entity's table: its columns in model order, and those of its primary key.</summary>
internal sealed record MappedTable(string Name, string? Schema, IReadOnlyList<MappedColumn> Columns, IReadOnlyList<MappedColumn> Key)
{
    /// <summary>The column of property <paramref name="propertyName"/>.</summary>
    public MappedColumn Column(string propertyName) =>
        Columns.SingleOrDefault(column => column.Property.Name == propertyName)
        ?? throw new ArgumentException($"{Name} has no column for a property named '{propertyName}'.", nameof(propertyName));
}

/// <summary>One column: its name, the property it stores and the provider's mapping for its values.</summary>
internal sealed record MappedColumn(string Name, IProperty Property, RelationalTypeMapping Mapping);
