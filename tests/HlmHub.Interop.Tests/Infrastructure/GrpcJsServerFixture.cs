using System.Globalization;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>The @grpc/grpc-js interop server (tests/interop/node/interop_server.js) on a free port, for the test class's lifetime.</summary>
public sealed class GrpcJsServerFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private const string ListeningPrefix = "listening on 127.0.0.1:";

    private PeerProcess? _process;
    private Exception? _startFailure;

    /// <summary>The server's address; fails the test (with the reason) when the peer is missing or did not start.</summary>
    public Uri Address
    {
        get
        {
            Peers.RequireNode();
            if (_startFailure is not null)
            {
                Assert.Fail($"The grpc-js interop server did not start: {_startFailure.Message}");
            }
            return new Uri($"http://127.0.0.1:{Port}");
        }
    }

    internal string Output => _process?.Output ?? string.Empty;

    private int Port { get; set; }

    public async Task InitializeAsync()
    {
        try
        {
            var node = Peers.RequireNode();
            _process = PeerProcess.Start(node, [RepositoryPaths.NodeServer, "--port", "0", "--stop_on_stdin_close", "true"], RepositoryPaths.NodeDirectory);
            var line = await _process.WaitForLineAsync(text => text.StartsWith(ListeningPrefix, StringComparison.Ordinal), StartTimeout);
            Port = int.Parse(line[ListeningPrefix.Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is InvalidOperationException or Xunit.Sdk.XunitException)
        {
            // Reported by each test through Address, so a missing peer fails every test with its reason.
            _startFailure = exception;
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
