using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// What issue 12 asks of the example files themselves: each partner integration is under 150 lines, helpers included.
/// Each example is one file, so a local import (a helper module beside it) would hide lines from this count.
/// </summary>
public sealed class ExampleFileTests
{
    public static TheoryData<string> Examples => new()
    {
        "python/partner_redemptions.py",
        "node/partner_redemptions.js",
        "python/landlord_roster_sync.py",
        "curl/redeem.sh",
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_IsOneFileUnder150Lines(string example)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Examples, example));

        Assert.True(lines.Length < 150, $"{example} has {lines.Length} lines; the examples must stay under 150, helpers included.");
        var siblings = Directory.GetFiles(Path.GetDirectoryName(Path.Combine(RepositoryPaths.Examples, example))!)
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => name != Path.GetFileNameWithoutExtension(example))
            .ToList();
        Assert.DoesNotContain(lines, line => siblings.Any(sibling =>
            line.StartsWith($"import {sibling}", StringComparison.Ordinal)
            || line.StartsWith($"from {sibling} ", StringComparison.Ordinal)
            || line.Contains($"require('./{sibling}", StringComparison.Ordinal)));
    }
}
