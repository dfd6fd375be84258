using System.Net;
using System.Net.Sockets;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder from a loopback port to a real server that a test can freeze: bytes stop flowing both ways while
/// every connection stays open, as when a database server hangs or the network between it and the hub is cut without
/// a reset. Thawing lets the bytes held back flow again.
/// </summary>
internal sealed class FreezableTcpProxy : IAsyncDisposable
{
    private const int BufferBytes = 16 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Lock _lock = new();
    private readonly Task _accepting;
    private TaskCompletionSource _flowing = Flowing();

    private FreezableTcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The loopback port to connect to instead of the server's.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static FreezableTcpProxy Start(string targetHost, int targetPort) => new(targetHost, targetPort);

    /// <summary>From now on, nothing more is forwarded in either direction (connections stay open).</summary>
    public void Freeze()
    {
        lock (_lock)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Forwards again, what was held back first.</summary>
    public void Thaw()
    {
        lock (_lock)
        {
            _flowing.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Thaw();
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_lock)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        try
        {
            await _accepting;
        }
        catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var server = new TcpClient();
            lock (_lock)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[BufferBytes];
        try
        {
            int read;
            while ((read = await from.GetStream().ReadAsync(buffer, _stop.Token)) > 0)
            {
                Task flowing;
                lock (_lock)
                {
                    flowing = _flowing.Task;
                }

                await flowing.WaitAsync(_stop.Token);
                await to.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // One side closed or the proxy stopped: the other side sees its connection end.
            from.Dispose();
            to.Dispose();
        }
    }
}
