namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>Where the third-party clients and the contracts live, found from the test assembly's location.</summary>
internal static class RepositoryPaths
{
    /// <summary>The checkout's root (the folder holding HlmHub.sln).</summary>
    public static string Root => Repository.Root;

    public static string Protos => Path.Combine(Root, "protos");

    public static string PythonClient => Path.Combine(Root, "tests", "interop", "python", "admin_client.py");

    public static string PythonRosterClient => Path.Combine(Root, "tests", "interop", "python", "roster_client.py");

    public static string PythonRedemptionClient => Path.Combine(Root, "tests", "interop", "python", "redemption_client.py");

    public static string NodeRedemptionClient => Path.Combine(NodeDirectory, "redemption_client.js");

    /// <summary>
    /// google/api/annotations.proto and http.proto (redemption.proto's HTTP rule), from the Google.Api.CommonProtos
    /// package the contracts build with, in the NuGet package folder; the version is the one the build restored.
    /// </summary>
    public static string GoogleApiProtos
    {
        get
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var version = typeof(Google.Api.HttpRule).Assembly
                .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];
            var root = Path.Combine(packages, "google.api.commonprotos");
            var protos = Path.Combine(root, version, "content", "protos");
            if (!File.Exists(Path.Combine(protos, "google", "api", "annotations.proto")))
            {
                Assert.Fail($"google/api/annotations.proto not found under {root}: restore the solution (the Google.Api.CommonProtos package) first.");
            }

            return protos;
        }
    }

    public static string NodeDirectory => Path.Combine(Root, "tests", "interop", "node");

    /// <summary>The examples a newcomer runs (examples/README.md).</summary>
    public static string Examples => Path.Combine(Root, "examples");

    public static string ExamplesNodeDirectory => Path.Combine(Examples, "node");

    public static string NodeClient => Path.Combine(NodeDirectory, "admin_client.js");
}
