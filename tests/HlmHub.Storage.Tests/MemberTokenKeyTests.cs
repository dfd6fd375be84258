using HlmHub.Domain;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.Storage.Tests;

public sealed class MemberTokenKeyTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-token-tests-" + Guid.NewGuid().ToString("N"), "data");

    [Fact]
    public void WithoutConfiguredKey_CreatesAPrivateKeyFileAndReusesIt()
    {
        var first = Resolve(new Dictionary<string, string?>());
        var path = Path.Combine(_dataDirectory, MemberTokenKeys.KeyFileName);

        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var second = Resolve(new Dictionary<string, string?>());
        Assert.Equal(first.Compute("amsom", "REF-1"), second.Compute("amsom", "REF-1"));
    }

    [Fact]
    public void ConfiguredKey_IsUsedAndNoFileIsWritten()
    {
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(value => (byte)value).ToArray());

        var generator = Resolve(new Dictionary<string, string?> { [MemberTokenKeys.ConfigurationKey] = key });

        Assert.Equal(new MemberTokenGenerator(Convert.FromBase64String(key)).Compute("amsom", "REF-1"), generator.Compute("amsom", "REF-1"));
        Assert.False(File.Exists(Path.Combine(_dataDirectory, MemberTokenKeys.KeyFileName)));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void BadConfiguredKey_FailsNamingTheSetting(string key)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Resolve(new Dictionary<string, string?> { [MemberTokenKeys.ConfigurationKey] = key }));

        Assert.Contains(MemberTokenKeys.ConfigurationKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A creation that died before its move (a crash, a power loss) leaves only its temporary file, possibly empty or
    /// half written, and perhaps the lock file: its key was never used, so the next start creates the key as usual,
    /// and clears what was left.
    /// </summary>
    [Fact]
    public void LeftoversOfACreationThatDied_DoNotStopTheNextOne_AndAreCleared()
    {
        Directory.CreateDirectory(_dataDirectory);
        var empty = Path.Combine(_dataDirectory, $"{MemberTokenKeys.KeyFileName}.{Guid.NewGuid():N}{MemberTokenKeys.TemporarySuffix}");
        var partial = Path.Combine(_dataDirectory, $"{MemberTokenKeys.KeyFileName}.{Guid.NewGuid():N}{MemberTokenKeys.TemporarySuffix}");
        File.WriteAllText(empty, "");
        File.WriteAllText(partial, "c2VjcmV0");
        File.WriteAllText(Path.Combine(_dataDirectory, MemberTokenKeys.LockFileName), "");

        var generator = Resolve(new Dictionary<string, string?>());

        var key = Convert.FromBase64String(File.ReadAllText(Path.Combine(_dataDirectory, MemberTokenKeys.KeyFileName)));
        Assert.Equal(MemberTokenKeys.GeneratedKeyLength, key.Length);
        Assert.Equal(new MemberTokenGenerator(key).Compute("amsom", "REF-1"), generator.Compute("amsom", "REF-1"));
        Assert.Empty(Directory.EnumerateFiles(_dataDirectory, "*" + MemberTokenKeys.TemporarySuffix));
    }

    [Fact]
    public void ExistingKeyFile_IsNeverReplaced_EvenBesideALeftoverTemporaryKey()
    {
        Directory.CreateDirectory(_dataDirectory);
        var path = Path.Combine(_dataDirectory, MemberTokenKeys.KeyFileName);
        var existing = Convert.ToBase64String(Enumerable.Range(1, 32).Select(value => (byte)value).ToArray());
        File.WriteAllText(path, existing);
        File.WriteAllText(
            Path.Combine(_dataDirectory, $"{MemberTokenKeys.KeyFileName}.{Guid.NewGuid():N}{MemberTokenKeys.TemporarySuffix}"),
            Convert.ToBase64String(new byte[32]));

        var generator = Resolve(new Dictionary<string, string?>());

        Assert.Equal(existing, File.ReadAllText(path));
        Assert.Equal(new MemberTokenGenerator(Convert.FromBase64String(existing)).Compute("amsom", "REF-1"), generator.Compute("amsom", "REF-1"));
    }

    /// <summary>
    /// Hubs starting at once on one data directory (threads here: the lock is per open file, as between processes)
    /// all use one key. Before the key was written elsewhere and moved into place, the losers read the file the
    /// winner had created and not yet written, and failed on an empty key.
    /// </summary>
    [Fact]
    public async Task CreatorsRacingOnOneDataDirectory_AllUseTheSameKey()
    {
        const int Creators = 8;
        for (var round = 0; round < 50; round++)
        {
            var directory = Path.Combine(Path.GetDirectoryName(_dataDirectory)!, "race-" + round);
            var configuration = new ConfigurationBuilder().Build();
            using var start = new Barrier(Creators);
            // A thread each (LongRunning), so they all reach the barrier without waiting for the pool to grow.
            var keys = await Task.WhenAll(Enumerable.Range(0, Creators).Select(_ => Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait(TestTimeouts.Default);
                    return Convert.ToBase64String(MemberTokenKeys.Load(configuration, directory));
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)));

            Assert.Single(keys.Distinct());
            Assert.Equal(keys[0], File.ReadAllText(Path.Combine(directory, MemberTokenKeys.KeyFileName)));
        }
    }

    public void Dispose()
    {
        var root = Path.GetDirectoryName(_dataDirectory)!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private MemberTokenGenerator Resolve(Dictionary<string, string?> settings)
    {
        settings["Storage:DataDirectory"] = _dataDirectory;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection().AddHlmHubStorage(configuration).BuildServiceProvider();
        return services.GetRequiredService<MemberTokenGenerator>();
    }
}
