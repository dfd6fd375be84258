namespace HlmHub.Cli.Tests.Infrastructure;

/// <summary>How one run of <c>hlmhub</c> ended: its exit code and what it wrote to each stream.</summary>
internal sealed record CliResult(string CommandLine, int ExitCode, string Output, string Error)
{
    private const string SecretLine = "client_secret: ";

    /// <summary>The lines of standard error, without the empty ones.</summary>
    public IReadOnlyList<string> ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The secret <c>clients add</c> or <c>clients rotate-secret</c> showed (its <c>client_secret:</c> line).</summary>
    public string ShownSecret =>
        Output.Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith(SecretLine, StringComparison.Ordinal))[SecretLine.Length..];

    public override string ToString() =>
        $"{CommandLine}\nexit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>
/// The real <c>hlmhub</c> executable (tools/HlmHub.Cli's build output, same configuration as this test assembly) as a
/// child process: arguments and environment given, none of the test runner's HLMHUB_* variables inherited, standard
/// output and error captured apart, killed if it outlives the time limit.
/// </summary>
internal static class CliProcess
{
    /// <summary>How long one run may take: above the CLI's own time-out that the tests set (HLMHUB_TIMEOUT).</summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(4);

    public static string Executable
    {
        get
        {
            // tests/HlmHub.Cli.Tests/bin/<Configuration>/<framework>/ -> tools/HlmHub.Cli/bin/<Configuration>/<framework>/hlmhub
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var repository = testOutput.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(repository, "tools", "HlmHub.Cli", "bin", testOutput.Parent.Name, testOutput.Name, OperatingSystem.IsWindows() ? "hlmhub.exe" : "hlmhub");
        }
    }

    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] arguments) =>
        RunAsync(environment, workingDirectory, noFileSpace: false, arguments);

    /// <summary>
    /// Runs <c>hlmhub</c> where no file can grow (Unix only): a limit of 0 bytes on files (<c>ulimit -f 0</c>), with
    /// SIGXFSZ ignored, so a write fails with EFBIG as it would on a full disk, and the CLI sees an IOException rather
    /// than being killed. Creating an empty file still works. The runtime's W^X double mapping grows a file of its own
    /// at start, so it is turned off.
    /// </summary>
    public static Task<CliResult> RunWithNoFileSpaceAsync(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] arguments) =>
        RunAsync(environment, workingDirectory, noFileSpace: true, arguments);

    private static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, string workingDirectory, bool noFileSpace, string[] arguments)
    {
        var executable = Executable;
        Assert.True(File.Exists(executable), $"{executable} is missing: build tools/HlmHub.Cli (or this test project) first.");
        // None of the test runner's HLMHUB_* variables (null removes one), then the test's.
        var variables = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("HLMHUB_", StringComparison.Ordinal))
            .ToDictionary(name => name, string? (_) => null);
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        var run = noFileSpace
            ? await ProcessRun.RunAsync("/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"", executable, .. arguments], RunLimit, workingDirectory,
                new Dictionary<string, string?>(variables) { ["DOTNET_EnableWriteXorExecute"] = "0" })
            : await ProcessRun.RunAsync(executable, arguments, RunLimit, workingDirectory, variables);
        return new CliResult("hlmhub " + string.Join(' ', arguments), run.ExitCode, run.Output, run.Error);
    }
}
