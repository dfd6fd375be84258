using System.Net;

namespace HlmHub.Grpc.Client.Internal;

/// <summary>
/// A request body written message by message while the call runs. HttpClient hands us the HTTP/2
/// request stream when it starts sending; writes to it complete only when the connection accepted
/// the data (flow control), which is how a slow server slows the writer down.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StreamingRequestContent()
    {
        Headers.TryAddWithoutValidation("content-type", HlmHub.Grpc.Internal.GrpcProtocol.ContentType);
    }

    /// <summary>The request stream, once HttpClient has started sending the body.</summary>
    public Task<Stream> GetStreamAsync() => _stream.Task;

    /// <summary>Ends the body: HttpClient sends END_STREAM.</summary>
    public void Complete() => _completed.TrySetResult();

    /// <summary>Abandons the body (the call is over or cancelled); pending and later writes fail.</summary>
    public void Abort()
    {
        _stream.TrySetCanceled();
        _completed.TrySetCanceled();
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // A second call only happens when HttpClient retries the request on a new connection before
        // the server saw it; messages already written to the failed stream are lost, so fail instead.
        if (!_stream.TrySetResult(stream))
        {
            throw new HttpRequestException("The streaming request body cannot be sent twice.");
        }
        // Send the HEADERS frame now rather than with the first message: the server can then answer a
        // call that needs no request message (UNIMPLEMENTED, UNAUTHENTICATED) before the client writes.
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
