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
