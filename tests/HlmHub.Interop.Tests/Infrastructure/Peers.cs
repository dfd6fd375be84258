namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// The real gRPC implementations these tests run, and what installs each one. A missing peer fails
/// the test with the package to install (tools/test.sh installs them all): never a silent pass.
/// </summary>
internal static class Peers
{
    public const string Python = "/usr/bin/python3";
    /// <summary>Debian's python3-grpcio and protoc with the gRPC Python plugin.</summary>
    public static void RequirePython()
    {
        RequireFile(Python, "Debian package python3 (the grpcio client runs on /usr/bin/python3)");
        RequireFile("/usr/bin/protoc", "Debian package protobuf-compiler");
        RequireFile("/usr/bin/grpc_python_plugin", "Debian package protobuf-compiler-grpc");
        RequireFile("/usr/include/google/protobuf/timestamp.proto", "Debian package libprotobuf-dev (the well-known types protoc imports)");
        RequireFile("/usr/lib/python3/dist-packages/grpc/__init__.py", "Debian package python3-grpcio");
        RequireFile("/usr/lib/python3/dist-packages/google/protobuf/__init__.py", "Debian package python3-protobuf");
    }

    /// <summary>node on PATH and the locked @grpc/grpc-js and @grpc/proto-loader from npm ci.</summary>
    public static string RequireNode()
    {
        var node = FindOnPath("node");
        if (node is null)
        {
            Assert.Fail("node is not on PATH: install Node.js (Debian package nodejs) to run the @grpc/grpc-js peer.");
        }
        foreach (var package in new[] { "@grpc/grpc-js", "@grpc/proto-loader" })
        {
            var directory = Path.Combine(RepositoryPaths.NodeDirectory, "node_modules", package);
            if (!Directory.Exists(directory))
            {
                Assert.Fail($"npm package {package} is missing from {RepositoryPaths.NodeDirectory}/node_modules: run `npm ci` there (tools/test.sh does).");
            }
        }
        return node;
    }

    /// <summary>curl on PATH (Debian package curl), for JSON over HTTP/1.1.</summary>
    public static string RequireCurl()
    {
        var curl = FindOnPath("curl");
        if (curl is null)
        {
            Assert.Fail("curl is not on PATH: install Debian package curl.");
        }
        return curl;
    }

    private static void RequireFile(string path, string installHint)
    {
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing: install {installHint}; tools/test.sh installs every peer.");
        }
    }

    private static string? FindOnPath(string executable)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, executable))
            .FirstOrDefault(File.Exists);
    }
}
