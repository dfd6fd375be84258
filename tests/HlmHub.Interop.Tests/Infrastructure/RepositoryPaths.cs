namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>Where the third-party clients and the contracts live, found from the test assembly's location.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The checkout's root (the folder holding HlmHub.sln).</summary>
    public static string Root => LazyRoot.Value;

    public static string Protos => Path.Combine(Root, "protos");

    public static string PythonClient => Path.Combine(Root, "tests", "interop", "python", "admin_client.py");

    public static string PythonRosterClient => Path.Combine(Root, "tests", "interop", "python", "roster_client.py");

    public static string NodeDirectory => Path.Combine(Root, "tests", "interop", "node");

    /// <summary>The examples a newcomer runs (examples/README.md).</summary>
    public static string Examples => Path.Combine(Root, "examples");

    public static string ExamplesNodeDirectory => Path.Combine(Examples, "node");

    public static string NodeClient => Path.Combine(NodeDirectory, "admin_client.js");

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
