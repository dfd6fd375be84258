namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// One run of a peer's interop client over every case (one process: starting a Python or Node
/// client per case would cost more than the cases), parsed into one verdict per case.
/// </summary>
internal sealed class PeerClientRun
{
    /// <summary>Time limit for a whole run; each call inside has its own 15 s deadline.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    private readonly Dictionary<string, string> _verdicts;

    private PeerClientRun(PeerResult result)
    {
        Result = result;
        _verdicts = ParseVerdicts(result.Output);
    }

    public PeerResult Result { get; }

    public static async Task<PeerClientRun> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory) =>
        new(await PeerProcess.RunAsync(fileName, arguments, workingDirectory, RunTimeout));

    /// <summary>Fails unless the peer printed PASS for <paramref name="testCase"/>; the message shows the peer's output.</summary>
    public void AssertPassed(string testCase)
    {
        if (!_verdicts.TryGetValue(testCase, out var verdict))
        {
            Assert.Fail($"The peer reported nothing for {testCase}.{Environment.NewLine}{Result.Describe()}");
        }
        if (!verdict.StartsWith("PASS ", StringComparison.Ordinal))
        {
            Assert.Fail($"{verdict}{Environment.NewLine}{Result.Describe()}");
        }
    }

    /// <summary>Cases the peer reported, in order.</summary>
    public IReadOnlyCollection<string> ReportedCases => _verdicts.Keys;

    private static Dictionary<string, string> ParseVerdicts(string output)
    {
        // "PASS name (12 ms)" or "FAIL name: reason", the reason possibly spanning several lines.
        var verdicts = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("PASS ", StringComparison.Ordinal) || line.StartsWith("FAIL ", StringComparison.Ordinal))
            {
                current = line[5..].Split([' ', ':'], 2)[0];
                verdicts[current] = line;
            }
            else if (current is not null && verdicts[current].StartsWith("FAIL ", StringComparison.Ordinal))
            {
                verdicts[current] += "\n" + line;
            }
        }
        return verdicts;
    }
}
