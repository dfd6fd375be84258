namespace HlmHub.Storage;

/// <summary>
/// The hub's data directory holds secrets: the SQLite database (with the Data Protection key ring that protects the
/// signing keys, and the households' references beside their member tokens), the member-token key file and the
/// bootstrap administrator's credentials. The hub creates it readable by its own user only (0700), whatever the
/// umask; a directory that already exists keeps its mode, and <see cref="IsOpenToOthers"/> says when that mode lets
/// other users in.
/// </summary>
public static class PrivateDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="path"/> (and its missing parents) with mode 0700 on Unix; does nothing to an existing one.</summary>
    public static void Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, OwnerOnly);
    }

    /// <summary>Whether <paramref name="path"/> exists and lets its group or other users in (always false on Windows).</summary>
    public static bool IsOpenToOthers(string path, out UnixFileMode mode)
    {
        mode = default;
        if (OperatingSystem.IsWindows() || !Directory.Exists(path))
        {
            return false;
        }

        mode = File.GetUnixFileMode(path);
        return (mode & Others) != 0;
    }
}
