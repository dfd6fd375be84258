using Google.Protobuf;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;

namespace HlmHub.Grpc.Tests;

/// <summary>A slow reader must slow the writer down (HTTP/2 flow control), never make it buffer without bound.</summary>
public sealed class FlowControlTests
{
    private const int MessageSizeBytes = 64 * 1024;

    /// <summary>Windows and buffers on both sides add up to a few MiB at most; 32 MiB unsent proves nothing is bounded.</summary>
    private const int MaxMessagesBeforeBlocking = 512;

    private static readonly TimeSpan BlockedAfter = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ServerThatDoesNotRead_MakesTheClientWriteWait()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var message = new EchoRequest { Payload = ByteString.CopyFrom(new byte[MessageSizeBytes]) };

        using var call = server.Channel.ClientStreamingCall(EchoMethods.ClientStream, new(Headers: new Metadata().Add("x-hold-reading", "1")));
        var written = 0;
        Task? blockedWrite = null;
        while (written < MaxMessagesBeforeBlocking)
        {
            var write = call.RequestStream.WriteAsync(message, CancellationToken.None);
            written++;
            if (!await write.CompletesWithin(BlockedAfter))
            {
                blockedWrite = write;
                break;
            }
        }
        Assert.NotNull(blockedWrite);

        server.Probe.ReleaseReading.SetResult();
        await blockedWrite.DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(written, reply.ReceivedCount);
        Assert.Equal((long)written * MessageSizeBytes, reply.ReceivedBytes);
    }

    [Fact]
    public async Task ClientThatDoesNotRead_MakesTheServerWriteWait()
    {
        await using var server = await GrpcTestServer.StartAsync();
        const int replies = MaxMessagesBeforeBlocking * 2;

        using var call = server.Channel.ServerStreamingCall(EchoMethods.ServerStream, new EchoRequest { ReplyCount = replies, ReplyPayloadSize = MessageSizeBytes });
        var stalledAt = await WaitUntilStalledAsync(() => server.Probe.MessagesWritten);

        Assert.InRange(stalledAt, 1, MaxMessagesBeforeBlocking);
        var received = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            received++;
        }
        Assert.Equal(replies, received);
        await server.Probe.HandlerFinished.Task.DefaultTimeout();
    }

    /// <summary>Polls a progress counter until it stops moving for <see cref="BlockedAfter"/>.</summary>
    private static async Task<int> WaitUntilStalledAsync(Func<int> progress)
    {
        var deadline = TimeProvider.System.GetUtcNow() + TestTimeouts.Default;
        var last = -1;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var current = progress();
            if (current == last && current > 0)
            {
                return current;
            }
            last = current;
            await Task.Delay(BlockedAfter);
        }
        throw new TimeoutException($"The writer never stalled (at {last} messages).");
    }
}
