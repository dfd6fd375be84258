using System.Security.Cryptography;
using HlmHub.Domain;
using Microsoft.Extensions.Configuration;

namespace HlmHub.Storage;

/// <summary>
/// Loads the hub's member-token key: <c>MemberTokens:Key</c> (base64, at least 32 bytes) when configured, else the
/// file <c>member-token.key</c> in the data directory, created with 32 random bytes and mode 0600 on first use
/// (written to a temporary file, forced to disk, then moved into place, never over an existing key).
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
    /// Checks the key while the host is built: a configured <c>MemberTokens:Key</c>, else an existing key file in
    /// <paramref name="dataDirectory"/>, so a bad or damaged one stops the hub at start-up with a line naming the
    /// setting or the file, not at the first roster or eligibility call with INTERNAL. A missing key file is created
    /// on first use, not here.
    /// </summary>
    public static void CheckKey(IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[ConfigurationKey] is { } configured && !string.IsNullOrWhiteSpace(configured))
        {
            CryptographicOperations.ZeroMemory(Decode(configured, ConfigurationKey));
        }
        else if (ReadKeyFile(Path.Combine(dataDirectory, KeyFileName)) is { } existing)
        {
            CryptographicOperations.ZeroMemory(existing);
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
        if (ReadKeyFile(path) is { } existing)
        {
            return existing;
        }

        PrivateDirectory.Create(dataDirectory);
        using var creationLock = AcquireCreationLock(dataDirectory);
        // Another process may have created the key while this one waited for the lock: use its key, so both compute
        // the same tokens.
        if (ReadKeyFile(path) is { } created)
        {
            return created;
        }

        // A temporary file left here can only come from a creation that died before its move: a live one holds the
        // lock. Its key was never returned, so no token was derived from it.
        foreach (var leftover in Directory.EnumerateFiles(dataDirectory, KeyFileName + ".*" + TemporarySuffix))
        {
            File.Delete(leftover);
        }

        var key = RandomNumberGenerator.GetBytes(GeneratedKeyLength);
        // Written whole and forced to disk under another name, then moved into place: the key file is never seen
        // empty or half written, by a reader or after a power loss, while tokens derived from the key may already be
        // committed to the database. Same directory, so the move is a rename within one file system.
        var temporary = Path.Combine(dataDirectory, $"{KeyFileName}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, PrivateFileOptions(FileMode.CreateNew, FileAccess.Write)))
            {
                var text = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(key));
                stream.Write(text);
                stream.Flush(flushToDisk: true);
            }

            // Never over an existing key: File.Move without overwrite checks, then renames; the lock makes that check
            // hold, as only the lock's holder creates the file.
            File.Move(temporary, path, overwrite: false);
            // .NET cannot sync a directory, which is what makes a rename durable. Syncing the moved file has ext4 and
            // xfs commit their journal up to the rename (the moved inode's change), the closest that can be had here.
            using (var moved = new FileStream(path, PrivateFileOptions(FileMode.Open, FileAccess.Write)))
            {
                moved.Flush(flushToDisk: true);
            }

            return key;
        }
        catch
        {
            CryptographicOperations.ZeroMemory(key);
            File.Delete(temporary);
            throw;
        }
    }

    private static byte[]? ReadKeyFile(string path) => File.Exists(path) ? Decode(File.ReadAllText(path), path) : null;

    /// <summary>The suffix of the temporary file a new key is written to before it is moved into place.</summary>
    internal const string TemporarySuffix = ".tmp";

    /// <summary>The lock file two processes creating the key at once take turns on (it stays, empty, afterwards).</summary>
    internal const string LockFileName = KeyFileName + ".lock";

    /// <summary>How long a process waits for another one to finish creating the key.</summary>
    private static readonly TimeSpan CreationLockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Takes the lock on <see cref="LockFileName"/>: opened without sharing, which .NET holds as an exclusive
    /// <c>flock</c> on Unix and a sharing mode on Windows, both released by the system if the process dies. Waits for
    /// another creator, as a second process starting on the same data directory does.
    /// </summary>
    private static FileStream AcquireCreationLock(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, LockFileName);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, PrivateFileOptions(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException error) when (File.Exists(path))
            {
                // Held by another creator: its whole creation takes milliseconds.
                if (waited.Elapsed >= CreationLockTimeout)
                {
                    throw new InvalidOperationException(
                        $"Another process has held {path} for {CreationLockTimeout.TotalSeconds:0} s while creating the member-token key; is a hub stuck on this data directory?", error);
                }

                Thread.Sleep(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>A file readable and writable by the hub's user only (0600) when this opening creates it.</summary>
    private static FileStreamOptions PrivateFileOptions(FileMode mode, FileAccess access, FileShare share = FileShare.Read)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows() && mode != FileMode.Open)
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
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
    // error, one line and exit 78 (HlmHub.Server's ConfigurationErrors). A damaged key file is named through the
    // setting that chose its place; it is never replaced, since the tokens partners hold were made with its key.
    private static string Problem(string source, string rule) =>
        source == ConfigurationKey
            ? $"{ConfigurationKey} {rule}"
            : $"Storage:DataDirectory holds a member-token key file, {source}, whose content {rule}: restore it from a backup, or set {ConfigurationKey} to the key (docs/member-tokens.md)";
}
