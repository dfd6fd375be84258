using HlmHub.Domain;
using HlmHub.Storage;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Demo;

/// <summary>
/// The hub's member-token key (see <see cref="MemberTokenGenerator"/>): <c>MemberTokens:Key</c> (base64, at
/// least 32 bytes) when configured, else the file <c>member-token.key</c> in the data directory, created with 32
/// random bytes (mode 0600) on first use. The roster must derive tokens with the same key, so this belongs
/// with it once that feature exists; it lives here because the demo seed is its first user.
/// </summary>
internal sealed class MemberTokenKeyStore(IConfiguration configuration, IOptions<StorageOptions> storageOptions)
{
    /// <summary>The configuration key of an explicit key.</summary>
    public const string ConfigurationKey = "MemberTokens:Key";

    /// <summary>The key file's name in the data directory.</summary>
    public const string FileName = "member-token.key";

    private readonly Lock _lock = new();
    private MemberTokenGenerator? _generator;

    /// <summary>The generator over the hub's key, loaded (or created) once.</summary>
    public MemberTokenGenerator Generator
    {
        get
        {
            lock (_lock)
            {
                return _generator ??= new MemberTokenGenerator(LoadKey());
            }
        }
    }

    private byte[] LoadKey()
    {
        if (configuration[ConfigurationKey] is { Length: > 0 } configured)
        {
            return Convert.FromBase64String(configured);
        }

        var directory = storageOptions.Value.DataDirectory;
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            var created = System.Security.Cryptography.RandomNumberGenerator.GetBytes(MemberTokenGenerator.MinimumKeyLength);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var writer = new StreamWriter(new FileStream(path, options));
                writer.Write(Convert.ToBase64String(created));
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another instance created it first: use theirs, so every token is derived with one key.
            }
        }

        return Convert.FromBase64String(File.ReadAllText(path).Trim());
    }
}
