using System.Security.Cryptography;
using HlmHub.Domain;
using Microsoft.Extensions.Configuration;

namespace HlmHub.Storage;

/// <summary>
/// Loads the hub's member-token key: <c>MemberTokens:Key</c> (base64, at least 32 bytes) when configured, else the
/// file <c>member-token.key</c> in the data directory, created with 32 random bytes and mode 0600 on first use.
/// Several hub instances must share one key (configure <c>MemberTokens:Key</c>): a key file is per machine.
/// See docs/member-tokens.md for rotation.
/// </summary>
public static class MemberTokenKeys
{
    /// <summary>The configuration key holding the base64 key.</summary>
    public const string ConfigurationKey = "MemberTokens:Key";

    /// <summary>The key file's name in the data directory.</summary>
    public const string KeyFileName = "member-token.key";

    /// <summary>Bytes of a generated key.</summary>
    public const int GeneratedKeyLength = 32;

    /// <summary>Loads (or creates) the key and returns a generator over it.</summary>
    public static MemberTokenGenerator CreateGenerator(IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var key = Load(configuration, dataDirectory);
        try
        {
            return new MemberTokenGenerator(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Checks a configured <c>MemberTokens:Key</c> while the host is built, so a bad one stops the hub at start-up
    /// with a line naming the setting, not at the first roster or eligibility call with INTERNAL. (A key file is
    /// read, or created, on first use.)
    /// </summary>
    public static void CheckConfiguredKey(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[ConfigurationKey] is { } configured && !string.IsNullOrWhiteSpace(configured))
        {
            CryptographicOperations.ZeroMemory(Decode(configured, ConfigurationKey));
        }
    }

    internal static byte[] Load(IConfiguration configuration, string dataDirectory)
    {
        var configured = configuration[ConfigurationKey];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Decode(configured, ConfigurationKey);
        }

        var path = Path.Combine(dataDirectory, KeyFileName);
        if (File.Exists(path))
        {
            return Decode(File.ReadAllText(path), path);
        }

        PrivateDirectory.Create(dataDirectory);
        var key = RandomNumberGenerator.GetBytes(GeneratedKeyLength);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(Convert.ToBase64String(key));
            return key;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created the file first: use its key, so both compute the same tokens.
            return Decode(File.ReadAllText(path), path);
        }
    }

    private static byte[] Decode(string text, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException(Problem(source, "must be base64 (it is not valid base64)"));
        }

        return key.Length >= MemberTokenGenerator.MinimumKeyLength
            ? key
            : throw new InvalidOperationException(Problem(source, $"must be at least {MemberTokenGenerator.MinimumKeyLength} bytes (it is {key.Length})"));
    }

    // "MemberTokens:Key must be ...": a message that starts with the setting's name is reported as a configuration
    // error, one line and exit 78 (HlmHub.Server's ConfigurationErrors).
    private static string Problem(string source, string rule) =>
        source == ConfigurationKey ? $"{ConfigurationKey} {rule}" : $"The member-token key in {source} {rule}";
}
