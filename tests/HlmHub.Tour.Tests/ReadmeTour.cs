using System.Text.RegularExpressions;

namespace HlmHub.Tour.Tests;

/// <summary>
/// The tour section of README.md, read from the file: its seven <c>bash</c> blocks, one per step. The first (start the
/// hub) runs on its own; the others run in order in one shell, as a reader types them in a second terminal.
/// </summary>
internal sealed partial record ReadmeTour(string StartHub, IReadOnlyList<string> Steps)
{
    public const string Heading = "## A ten-minute tour";

    /// <summary>The one line the test changes: the data directory, so the tour never touches the checkout's own.</summary>
    public const string DataDirectoryLine = "data=src/HlmHub.Server/data";

    public static ReadmeTour Read()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf(Heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{Heading}' section.");
        var end = readme.IndexOf("\n## ", start + Heading.Length, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        var blocks = BashBlock().Matches(section).Select(match => match.Groups[1].Value.TrimEnd()).ToList();
        Assert.True(blocks.Count == 7, $"The tour has {blocks.Count} bash blocks; it has seven steps, one block each.");
        Assert.True(blocks[1].Split('\n').Contains(DataDirectoryLine), $"Step 2 no longer starts with '{DataDirectoryLine}'.");
        return new ReadmeTour(blocks[0], blocks.Skip(1).ToList());
    }

    /// <summary>Steps 2 to 7 as one bash script that marks where each step's output starts.</summary>
    public string Script(string dataDirectory)
    {
        var script = new List<string> { "set -euo pipefail" };
        for (var index = 0; index < Steps.Count; index++)
        {
            script.Add($"echo '{StepMarker(index + 2)}'");
            script.Add(Steps[index].Replace(DataDirectoryLine, $"data='{dataDirectory}'", StringComparison.Ordinal));
        }

        return string.Join('\n', script) + "\n";
    }

    public static string StepMarker(int step) => $"@@ tour step {step} @@";

    /// <summary>Each step's output (2 to 7) from the script's.</summary>
    public static Dictionary<int, string> SplitOutput(string output)
    {
        var steps = new Dictionary<int, string>();
        var parts = Regex.Split(output, @"^@@ tour step (\d) @@$", RegexOptions.Multiline);
        for (var index = 1; index + 1 < parts.Length; index += 2)
        {
            steps[int.Parse(parts[index], System.Globalization.CultureInfo.InvariantCulture)] = parts[index + 1];
        }

        return steps;
    }

    [GeneratedRegex(@"^```bash\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex BashBlock();
}
