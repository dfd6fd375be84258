using System.Data.Common;
using HlmHub.Storage;

namespace HlmHub.Storage.Tests.Infrastructure;

/// <summary>
/// Reads a database's schema (tables, columns with type and nullability, primary keys, indexes with uniqueness
/// and filter, foreign keys) as sorted text lines, so two databases can be compared with a readable diff.
/// EF Core's own bookkeeping tables are left out.
/// </summary>
public static class SchemaReader
{
    public static Task<IReadOnlyList<string>> ReadAsync(
        DbConnection connection, StorageProvider provider, CancellationToken cancellationToken) =>
        provider == StorageProvider.Sqlite
            ? ReadSqliteAsync(connection, cancellationToken)
            : ReadPostgresAsync(connection, cancellationToken);

    private static async Task<IReadOnlyList<string>> ReadSqliteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        var tables = await QueryAsync(
            connection,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__EFMigrations%'",
            cancellationToken);
        foreach (var table in tables.Select(row => (string)row[0]!))
        {
            lines.Add($"table {table}");
            foreach (var column in await QueryAsync(connection, $"PRAGMA table_info(\"{table}\")", cancellationToken))
            {
                // cid, name, type, notnull, dflt_value, pk
                lines.Add($"column {table}.{column[1]} {column[2]} notnull={column[3]} default={column[4]} pk={column[5]}");
            }

            foreach (var index in await QueryAsync(connection, $"PRAGMA index_list(\"{table}\")", cancellationToken))
            {
                // seq, name, unique, origin, partial
                var name = (string)index[1]!;
                var columns = await QueryAsync(connection, $"PRAGMA index_info(\"{name}\")", cancellationToken);
                var sql = await QueryAsync(
                    connection, $"SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{name}'", cancellationToken);
                var indexName = name.StartsWith("sqlite_autoindex_", StringComparison.Ordinal) ? "(auto)" : name;
                lines.Add(
                    $"index {table} {indexName} unique={index[2]} origin={index[3]} partial={index[4]} " +
                    $"columns={string.Join(",", columns.Select(column => column[2]))} sql={sql.FirstOrDefault()?[0]}");
            }

            foreach (var key in await QueryAsync(connection, $"PRAGMA foreign_key_list(\"{table}\")", cancellationToken))
            {
                // id, seq, table, from, to, on_update, on_delete, match
                lines.Add($"foreignkey {table}.{key[3]} -> {key[2]}.{key[4]} seq={key[1]} update={key[5]} delete={key[6]}");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static async Task<IReadOnlyList<string>> ReadPostgresAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        foreach (var row in await QueryAsync(
            connection,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' " +
            "AND table_name NOT LIKE '\\_\\_EFMigrations%'",
            cancellationToken))
        {
            lines.Add($"table {row[0]}");
        }

        foreach (var row in await QueryAsync(
            connection,
            "SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length, c.is_nullable, c.column_default, " +
            "c.is_identity FROM information_schema.columns c WHERE c.table_schema = 'public' " +
            "AND c.table_name NOT LIKE '\\_\\_EFMigrations%'",
            cancellationToken))
        {
            lines.Add($"column {row[0]}.{row[1]} {row[2]}({row[3]}) nullable={row[4]} default={row[5]} identity={row[6]}");
        }

        foreach (var row in await QueryAsync(
            connection,
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' " +
            "AND tablename NOT LIKE '\\_\\_EFMigrations%'",
            cancellationToken))
        {
            lines.Add($"index {row[0]} {row[1]} {row[2]}");
        }

        foreach (var row in await QueryAsync(
            connection,
            "SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con " +
            "JOIN pg_class rel ON rel.oid = con.conrelid WHERE con.connamespace = 'public'::regnamespace " +
            "AND rel.relname NOT LIKE '\\_\\_EFMigrations%'",
            cancellationToken))
        {
            lines.Add($"constraint {row[0]} {row[1]} {row[2]}");
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static async Task<List<object?[]>> QueryAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<object?[]>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var values = new object?[reader.FieldCount];
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(values);
        }

        return rows;
    }
}
