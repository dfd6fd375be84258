using System.Diagnostics;

namespace HlmHub.TestSupport;

/// <summary>
/// A program run to its end as a child process (a CLI, curl, the hub with a switch that exits): its exit code, and its
/// standard output and standard error read apart, for a test that asserts on one stream (a script printed on standard
/// output, a one-line error on standard error).
/// </summary>
public sealed record ProcessRun(string CommandLine, int ExitCode, string Output, string Error)
{
    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/> (default:
    /// this process's), this process's environment changed by <paramref name="environment"/> (a null value removes the
    /// variable), and waits for its end; kills the whole process tree and throws a <see cref="TimeoutException"/> (with
    /// what it printed) when it outlives <paramref name="limit"/>.
    /// </summary>
    public static async Task<ProcessRun> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan limit, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var commandLine = program + " " + string.Join(' ', start.ArgumentList);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {commandLine}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
            throw new TimeoutException($"{commandLine} still ran after {limit}: killed.\n{new ProcessRun(commandLine, process.ExitCode, await output, await error)}");
        }

        return new ProcessRun(commandLine, process.ExitCode, await output, await error);
    }

    public override string ToString() => $"{CommandLine}\nexit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}
