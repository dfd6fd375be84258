using System.Diagnostics;
using HlmHub.Server.Features.Admin;
using Microsoft.Data.Sqlite;

namespace HlmHub.Server.Tests;

/// <summary><c>HlmHub.Server --migrate</c> applies the migrations and exits without serving.</summary>
public sealed class MigrateCommandTests
{
    [Fact]
    public async Task MigrateSwitch_CreatesTheSchemaAndExitsWithoutServing()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-migrate-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { typeof(AdminService).Assembly.Location, "--migrate", $"--Storage:DataDirectory={dataDirectory}" })
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await output}\n{await errors}");
            // Nothing was served: the first administrator is only created by a running hub.
            Assert.False(File.Exists(Path.Combine(dataDirectory, "bootstrap-admin.json")));
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "hlmhub.db")};Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM __EFMigrationsHistory; SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'LedgerEntries';";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.True(reader.GetInt64(0) > 0, "no migration was recorded");
            Assert.True(await reader.NextResultAsync() && await reader.ReadAsync());
            Assert.Equal(1L, reader.GetInt64(0));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
