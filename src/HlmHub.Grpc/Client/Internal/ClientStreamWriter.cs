using System.Buffers;
using Google.Protobuf;

namespace HlmHub.Grpc.Client.Internal;

/// <summary>Writes request messages of a client-streaming or bidirectional call; one write at a time.</summary>
internal sealed class ClientStreamWriter<TRequest, TResponse>(GrpcCall<TRequest, TResponse> call, StreamingRequestContent content) : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private int _writing;
    private bool _completed;

    public WriteOptions? WriteOptions { get; set; } = call.Options.WriteOptions;

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_completed)
        {
            throw new InvalidOperationException("The request stream was already completed.");
        }
        call.ThrowIfCallEnded();
        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            throw new InvalidOperationException("Only one write can be pending at a time: await the previous WriteAsync.");
        }
        byte[]? frame = null;
        var writeSucceeded = false;
        try
        {
            var encoding = WriteOptions?.NoCompress == true ? null : call.RequestEncoding;
            frame = MessageFrame.Rent(message, encoding, call.MaxSendMessageSizeBytes, out var frameLength);
            using var linked = cancellationToken.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.CallToken)
                : null;
            var token = linked?.Token ?? call.CallToken;
            var stream = await content.GetStreamAsync().WaitAsync(token).ConfigureAwait(false);
            await stream.WriteAsync(frame.AsMemory(0, frameLength), token).ConfigureAwait(false);
            // Flush so each message leaves now rather than when a buffer fills: streams are often interactive.
            await stream.FlushAsync(token).ConfigureAwait(false);
            writeSucceeded = true;
        }
        catch (RpcException ex)
        {
            call.Fail(ex.Status);
            throw call.EndedException(ex);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                call.CancelByClient();
            }
            if (call.HasEnded)
            {
                throw call.EndedException(null);
            }
            // The stream broke without a local reason: the server has most likely ended the call. Its status
            // arrives with the response, which stays authoritative, so this write failure does not settle the call.
            throw new RpcException(call.StatusFromException(ex));
        }
        finally
        {
            // A failed write may still reference the buffer inside the transport: let the GC have it.
            if (frame is not null && writeSucceeded)
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
            Volatile.Write(ref _writing, 0);
        }
    }

    public Task CompleteAsync()
    {
        // Ending the body under a write in progress would cut a message in half on the wire.
        if (Volatile.Read(ref _writing) == 1)
        {
            throw new InvalidOperationException("A write is still pending: await it before completing the request stream.");
        }
        _completed = true;
        content.Complete();
        return Task.CompletedTask;
    }
}
