using System.Collections.Concurrent;
using System.Diagnostics;

namespace HlmHub.Tour.Tests;

/// <summary>
/// A bash process in the repository's root, as a reader's terminal: output kept (stdout and stderr interleaved),
/// the whole process tree killed on dispose (<c>dotnet run</c> starts the hub as its child).
/// </summary>
internal sealed class Shell : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private Shell(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Runs <paramref name="arguments"/> with bash in the repository's root, with <paramref name="environment"/> on top of a clean copy of this process's.</summary>
    public static Shell Start(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A reader's terminal has none of the hub's or the CLI's settings, nor the test host's MSBuild variables.
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("HLMHUB_", StringComparison.Ordinal) || name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("VSTEST", StringComparison.Ordinal) || name.StartsWith("Storage__", StringComparison.Ordinal))
            {
                start.Environment.Remove(name);
            }
        }

        // Builds leave no server behind (MSBuild nodes, the compiler server), which would outlive the test holding
        // its output pipes: the commands are the README's, only where they build is quieter.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        process.StandardInput.Close();
        return new Shell(process);
    }

    /// <summary>Waits until the output satisfies <paramref name="condition"/>; fails with the output if the shell exits or time runs out first.</summary>
    public Task WaitForAsync(Func<string, bool> condition, string what, TimeSpan timeout) =>
        Poll.UntilAsync(
            () =>
            {
                if (condition(Output))
                {
                    return true;
                }

                if (_process.HasExited)
                {
                    Assert.Fail($"The shell exited ({_process.ExitCode}) before {what}:\n{Output}");
                }

                return false;
            },
            $"for {what}",
            timeout,
            () => Output,
            TimeSpan.FromMilliseconds(200));

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"Still running after {timeout}:\n{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
