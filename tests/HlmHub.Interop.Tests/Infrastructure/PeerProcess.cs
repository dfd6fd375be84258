using System.Diagnostics;
using System.Text;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// A peer's process: output captured (stdout and stderr interleaved, for failure messages), a time
/// limit, and the whole process tree killed when the test is done with it.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Line)> _lineWaiters = [];

    private PeerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return _output.ToString();
            }
        }
    }

    public string CommandLine { get; private init; } = string.Empty;

    public static PeerProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var peer = new PeerProcess(process) { CommandLine = fileName + " " + string.Join(' ', startInfo.ArgumentList) };
        process.OutputDataReceived += (_, line) => peer.Append(line.Data);
        process.ErrorDataReceived += (_, line) => peer.Append(line.Data);
        process.Exited += (_, _) => peer._exited.TrySetResult();
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {peer.CommandLine}.");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Runs the process to its end within <paramref name="timeout"/>; kills it when the time is up.</summary>
    public static async Task<PeerResult> RunAsync(
        string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var peer = Start(fileName, arguments, workingDirectory, environment);
        var timedOut = !await peer.WaitForExitAsync(timeout);
        if (timedOut)
        {
            peer.Kill();
        }
        return new PeerResult(peer.CommandLine, timedOut ? null : peer._process.ExitCode, timedOut, peer.Output);
    }

    /// <summary>Waits for a line matching <paramref name="match"/>; fails with the output if the process exits or the time is up first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_outputLock)
        {
            var existing = _output.ToString().Split('\n').FirstOrDefault(match);
            if (existing is not null)
            {
                return existing;
            }
            _lineWaiters.Add((match, line));
        }
        var finished = await Task.WhenAny(line.Task, _exited.Task, Task.Delay(timeout));
        if (finished == line.Task)
        {
            return await line.Task;
        }
        // Let the asynchronous output readers catch up so the failure shows everything.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        var reason = finished == _exited.Task ? $"exited with code {_process.ExitCode}" : $"printed nothing expected within {timeout.TotalSeconds:0} s";
        throw new InvalidOperationException($"{CommandLine} {reason}. Output:{Environment.NewLine}{Output}");
    }

    private async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(_exited.Task, Task.Delay(timeout)) != _exited.Task)
        {
            return false;
        }
        // Exited fires before the redirected streams are drained: wait for their end too.
        await _process.WaitForExitAsync();
        return true;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_outputLock)
        {
            _output.Append(line).Append('\n');
            foreach (var waiter in _lineWaiters.Where(waiter => waiter.Match(line)).ToList())
            {
                _lineWaiters.Remove(waiter);
                waiter.Line.TrySetResult(line);
            }
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }
}

/// <summary>How a peer run ended. <see cref="ExitCode"/> is null when it was killed for taking too long.</summary>
internal sealed record PeerResult(string CommandLine, int? ExitCode, bool TimedOut, string Output)
{
    public string Describe() =>
        $"{CommandLine}{Environment.NewLine}" +
        (TimedOut ? "killed: time limit reached" : $"exit code {ExitCode}") +
        $"{Environment.NewLine}--- peer output ---{Environment.NewLine}{Output}";
}
