using System.Text.Json;

namespace HlmHub.Cli.Output;

/// <summary>Files that hold credentials: created readable by their owner only from the first byte.</summary>
internal static class JsonFiles
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}

/// <summary>
/// A credentials file written in two steps around the call that produces its secrets. <see cref="Prepare"/>, before
/// the call, creates an empty temporary file (mode 0600) beside the target: a path that cannot be written fails there,
/// before the hub issues a secret it keeps only the hash of, which would then be lost. <see cref="Commit"/> writes the
/// content and renames the file over the target in one step, so an older file is replaced whole or not at all.
/// Disposed without a commit (the call failed), the temporary file goes.
/// </summary>
internal sealed class OwnerOnlyFile : IDisposable
{
    private readonly FileStream _stream;
    private bool _done;

    private OwnerOnlyFile(string path, string temporaryPath, FileStream stream)
    {
        Path = path;
        TemporaryPath = temporaryPath;
        _stream = stream;
    }

    /// <summary>The file the content goes to.</summary>
    public string Path { get; }

    /// <summary>Where the content waits until it is renamed to <see cref="Path"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>Creates the directory if needed and the temporary file; a usage error naming the path if it cannot.</summary>
    public static OwnerOnlyFile Prepare(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        var temporaryPath = $"{fullPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            if (System.IO.Path.GetDirectoryName(fullPath) is { } directory)
            {
                Directory.CreateDirectory(directory);
            }

            if (Directory.Exists(fullPath))
            {
                throw new IOException("it is a directory");
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            return new OwnerOnlyFile(fullPath, temporaryPath, new FileStream(temporaryPath, options));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot write {fullPath}: {exception.Message}");
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> and puts the file in place, replacing an older one. If the content is written
    /// but cannot be put in place, it stays in the temporary file, which the error names: the secrets it holds are not
    /// lost.
    /// </summary>
    public void Commit(byte[] content)
    {
        try
        {
            _stream.Write(content);
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
        }
        // A file grown past its limit (EFBIG) comes as an ArgumentOutOfRangeException.
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot write {Path}: {exception.Message}");
        }

        _done = true;
        try
        {
            File.Move(TemporaryPath, Path, overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot replace {Path}: {exception.Message}; its content is in {TemporaryPath} (mode 0600)");
        }
    }

    public void Dispose()
    {
        try
        {
            _stream.Dispose();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            // A write that failed leaves its bytes buffered, and disposing tries them again: the failure was reported.
        }

        if (!_done)
        {
            File.Delete(TemporaryPath);
        }
    }
}
