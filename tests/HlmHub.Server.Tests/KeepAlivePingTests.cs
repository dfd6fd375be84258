using System.Net.Sockets;
using Microsoft.Data.Sqlite;

namespace HlmHub.Server.Tests;

/// <summary>
/// HTTP/2 keep-alive on the real hub process's gRPC endpoint (<c>Hub:KeepAlivePingDelay</c>,
/// <c>Hub:KeepAlivePingTimeout</c>, shortened here): a silent connection gets a PING; a client that answers keeps
/// its connection; one that does not answer loses it. A raw socket speaks HTTP/2 so the test sees the frames.
/// </summary>
public sealed class KeepAlivePingTests : IDisposable
{
    private static readonly TimeSpan PingDelay = TimeSpan.FromSeconds(1);
    // Long enough that the answering client's ACK, from a test process sharing two cores with the rest of the suite,
    // is never late: with 2 s, one full run lost the answering connection (an ACK written after the server closed it).
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(4);
    private const byte Settings = 0x4, Ping = 0x6, GoAway = 0x7, Ack = 0x1;

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("hlmhub-keepalive-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task ASilentConnection_IsPinged_KeptWhileItAnswers_AndClosedWhenItDoesNot()
    {
        await using var hub = HubProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = _dataDirectory,
            ["Hub:KeepAlivePingDelay"] = PingDelay.ToString(),
            ["Hub:KeepAlivePingTimeout"] = PingTimeout.ToString(),
        });
        await hub.WaitStartedAsync();
        using var answering = await Http2Connection.OpenAsync(hub.GrpcPort);
        using var silent = await Http2Connection.OpenAsync(hub.GrpcPort);

        // The answering client: pinged again and again, it answers each, and still holds its connection after two
        // ping timeouts.
        var answered = 0;
        var until = TimeProvider.System.GetUtcNow() + (PingTimeout * 2);
        while (TimeProvider.System.GetUtcNow() < until)
        {
            var frame = await answering.ReadFrameAsync(PingDelay + PingTimeout + TimeSpan.FromSeconds(5));
            Assert.NotEqual(GoAway, frame?.Type);
            Assert.NotNull(frame);
            if (frame.Value.Type == Ping && (frame.Value.Flags & Ack) == 0)
            {
                await answering.WriteFrameAsync(Ping, Ack, frame.Value.Payload);
                answered++;
            }
        }

        // The silent client: pinged once, then closed (GOAWAY and end of stream) once the timeout passed.
        var frames = await silent.ReadUntilClosedAsync(PingDelay + PingTimeout + TimeSpan.FromSeconds(10));

        Assert.True(answered >= 2, $"the answering client was pinged {answered} time(s)");
        Assert.Contains(frames, frame => frame.Type == Ping && (frame.Flags & Ack) == 0);
        Assert.Contains(frames, frame => frame.Type == GoAway);
        Assert.True(answering.IsOpen, "the client that answered its pings lost its connection");
    }

    /// <summary>The bare minimum of an HTTP/2 client: the preface, SETTINGS (and their ACK), raw frames.</summary>
    private sealed class Http2Connection : IDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;

        private Http2Connection(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
        }

        public bool IsOpen => _client.Connected && !(_client.Client.Poll(0, SelectMode.SelectRead) && _client.Available == 0);

        public static async Task<Http2Connection> OpenAsync(int port)
        {
            var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port).DefaultTimeout();
            var connection = new Http2Connection(client);
            await connection._stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            await connection.WriteFrameAsync(Settings, 0, []);
            return connection;
        }

        public async Task WriteFrameAsync(byte type, byte flags, byte[] payload)
        {
            var header = new byte[9];
            header[0] = (byte)(payload.Length >> 16);
            header[1] = (byte)(payload.Length >> 8);
            header[2] = (byte)payload.Length;
            header[3] = type;
            header[4] = flags;
            await _stream.WriteAsync(header);
            await _stream.WriteAsync(payload);
        }

        /// <summary>The next frame, having acknowledged the server's SETTINGS; null at the end of the stream.</summary>
        public async Task<(byte Type, byte Flags, byte[] Payload)?> ReadFrameAsync(TimeSpan timeout)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            var header = new byte[9];
            if (!await ReadExactlyOrEndAsync(header, cancellation.Token))
            {
                return null;
            }

            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var payload = new byte[length];
            if (!await ReadExactlyOrEndAsync(payload, cancellation.Token))
            {
                return null;
            }

            if (header[3] == Settings && (header[4] & Ack) == 0)
            {
                try
                {
                    await WriteFrameAsync(Settings, Ack, []);
                }
                catch (IOException)
                {
                    // Read after the server closed (the silent client's buffered frames): nothing to acknowledge to.
                }
            }

            return (header[3], header[4], payload);
        }

        public async Task<List<(byte Type, byte Flags, byte[] Payload)>> ReadUntilClosedAsync(TimeSpan timeout)
        {
            var frames = new List<(byte, byte, byte[])>();
            var deadline = TimeProvider.System.GetUtcNow() + timeout;
            try
            {
                while (await ReadFrameAsync(deadline - TimeProvider.System.GetUtcNow()) is { } frame)
                {
                    frames.Add(frame);
                }
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"The connection was still open after {timeout}; frames: {string.Join(", ", frames.Select(frame => frame.Item1))}");
            }

            return frames;
        }

        public void Dispose() => _client.Dispose();

        private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken cancellationToken)
        {
            try
            {
                await _stream.ReadExactlyAsync(buffer, cancellationToken);
                return true;
            }
            catch (EndOfStreamException)
            {
                return false;
            }
            catch (IOException)
            {
                // A reset after GOAWAY is a close as well.
                return false;
            }
        }
    }
}
