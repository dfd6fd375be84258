using System.Collections.Concurrent;
using Google.Protobuf;
using HlmHub.Grpc.Tests.Echo;

namespace HlmHub.Grpc.Tests.Infrastructure;

/// <summary>What the server-side handlers observed, for tests to assert on.</summary>
internal sealed class EchoProbe
{
    public TaskCompletionSource HandlerStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource<Metadata> RequestHeaders { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource ReleaseReading { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource HandlerFinished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public ConcurrentQueue<string> Events { get; } = new();
    private int _messagesWritten;

    public int MessagesWritten => Volatile.Read(ref _messagesWritten);

    public void CountWrite() => Interlocked.Increment(ref _messagesWritten);
}

/// <summary>
/// The test service: echoes requests, and does what each request asks (fail, throw, wait). Request
/// headers starting with <c>x-</c> are echoed as response headers and trailers; <c>x-hold-reading</c>
/// makes the client-streaming and duplex handlers wait before reading.
/// </summary>
internal sealed class EchoService(EchoProbe probe)
{
    public async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        await StartAsync(context);
        await ApplyBehaviourAsync(request, context);
        return Reply(request, 0, context);
    }

    public async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        await StartAsync(context);
        if (context.RequestHeaders.GetValue("x-hold-reading") is not null)
        {
            await probe.ReleaseReading.Task.WaitAsync(context.CancellationToken);
        }
        var count = 0;
        long bytes = 0;
        var last = new EchoRequest();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            last = requestStream.Current;
            await ApplyBehaviourAsync(last, context);
            count++;
            bytes += last.Payload.Length;
        }
        var reply = Reply(last, 0, context);
        reply.ReceivedCount = count;
        reply.ReceivedBytes = bytes;
        return reply;
    }

    public async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        await StartAsync(context);
        await ApplyBehaviourAsync(request, context);
        try
        {
            for (var i = 0; i < request.ReplyCount; i++)
            {
                await responseStream.WriteAsync(Reply(request, i, context), context.CancellationToken);
                probe.CountWrite();
            }
        }
        finally
        {
            probe.HandlerFinished.TrySetResult();
        }
    }

    public async Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        await StartAsync(context);
        var index = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = requestStream.Current;
            await ApplyBehaviourAsync(request, context);
            for (var i = 0; i < Math.Max(1, request.ReplyCount); i++)
            {
                await responseStream.WriteAsync(Reply(request, index++, context), context.CancellationToken);
                probe.CountWrite();
            }
        }
    }

    private async Task StartAsync(ServerCallContext context)
    {
        probe.RequestHeaders.TrySetResult(context.RequestHeaders);
        var echoed = new Metadata();
        foreach (var entry in context.RequestHeaders)
        {
            if (entry.Key.StartsWith("x-", StringComparison.Ordinal) && entry.Key != "x-hold-reading")
            {
                echoed.Add(entry);
                context.ResponseTrailers.Add(entry.IsBinary ? new Metadata.Entry(entry.Key[..^4] + "-trailer-bin", entry.ValueBytes) : new Metadata.Entry(entry.Key + "-trailer", entry.Value));
            }
        }
        if (echoed.Count > 0)
        {
            await context.WriteResponseHeadersAsync(echoed);
        }
    }

    private async Task ApplyBehaviourAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.DelayMs > 0)
        {
            probe.HandlerStarted.TrySetResult();
            // Deliberately deaf to cancellation: it models work that finishes on its own (graceful shutdown).
            await Task.Delay(request.DelayMs, CancellationToken.None);
        }
        if (request.WaitForCancellation)
        {
            probe.HandlerStarted.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                probe.HandlerCancelled.TrySetResult();
                throw;
            }
        }
        if (request.ThrowException)
        {
            throw new InvalidOperationException("secret internal detail: connection string Password=hunter2");
        }
        if (request.FailWithStatus != 0)
        {
            throw new RpcException(new Status((StatusCode)request.FailWithStatus, request.Message),
                new Metadata().Add("x-failure", "yes").Add("x-failure-bin", [0, 1, 2, 255]));
        }
    }

    private static EchoReply Reply(EchoRequest request, int index, ServerCallContext context) => new()
    {
        Message = request.Message,
        Index = index,
        Payload = request.ReplyPayloadSize > 0 ? ByteString.CopyFrom(new byte[request.ReplyPayloadSize]) : request.Payload,
        RequestWasCompressed = context.LastRequestMessageWasCompressed,
        ReceivedBytes = request.Payload.Length,
    };
}
