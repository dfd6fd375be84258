namespace HlmHub.TestSupport;

/// <summary>The checkout the tests run from, found from the test assembly's location.</summary>
public static class Repository
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The checkout's root (the folder holding HlmHub.sln).</summary>
    public static string Root => LazyRoot.Value;

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "HlmHub.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"HlmHub.sln not found above {AppContext.BaseDirectory}: run the tests from the checkout.");
    }
}
