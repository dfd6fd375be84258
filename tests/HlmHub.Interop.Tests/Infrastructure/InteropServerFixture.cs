using HlmHub.InteropServer;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>One in-process interop server (our transport) per test class, on 127.0.0.1 and a free port.</summary>
public class InteropServerFixture : IAsyncLifetime
{
    private InteropServerHost? _server;

    internal CapturingLoggerProvider Logs { get; } = new();

    public InteropServerHost Server => _server ?? throw new InvalidOperationException("The server is not started.");

    public virtual async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _server = await InteropServerHost.StartAsync(0, Logs, timeout.Token);
    }

    public virtual async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
