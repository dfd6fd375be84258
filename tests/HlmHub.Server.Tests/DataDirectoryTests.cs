using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;

namespace HlmHub.Server.Tests;

/// <summary>
/// The data directory holds the database and the secrets: the hub creates it for its own user only, and says so at
/// start-up when one it did not create lets other users in.
/// </summary>
public sealed class DataDirectoryTests
{
    private const int OpenDirectoryEventId = 1002;

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
    public async Task ADataDirectoryOpenToOtherUsers_IsNamedInAWarningWithTheCommandThatClosesIt_AndAPrivateOneIsNot()
    {
        await using var open = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        File.SetUnixFileMode(open.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await using var @private = await TestDatabase.CreateAsync(TestProvider.Sqlite);

        List<string> openWarnings, privateWarnings;
        await using (var hub = await HubHost.StartAsync(open))
        {
            openWarnings = [.. hub.Logs.Where(record => record.EventId.Id == OpenDirectoryEventId).Select(record => record.Message)];
        }

        await using (var hub = await HubHost.StartAsync(@private))
        {
            privateWarnings = [.. hub.Logs.Where(record => record.EventId.Id == OpenDirectoryEventId).Select(record => record.Message)];
        }

        var warning = Assert.Single(openWarnings);
        Assert.Contains(Path.GetFullPath(open.DataDirectory), warning, StringComparison.Ordinal);
        Assert.Contains("mode 755", warning, StringComparison.Ordinal);
        Assert.Contains("chmod 700", warning, StringComparison.Ordinal);
        Assert.Empty(privateWarnings);
        Assert.False(PrivateDirectory.IsOpenToOthers(@private.DataDirectory, out _));
    }
}
