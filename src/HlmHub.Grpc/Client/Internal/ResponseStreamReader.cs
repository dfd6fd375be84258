using Google.Protobuf;

namespace HlmHub.Grpc.Client.Internal;

/// <summary>Reads the response messages of a server-streaming or bidirectional call.</summary>
internal sealed class ResponseStreamReader<TRequest, TResponse>(GrpcCall<TRequest, TResponse> call) : IAsyncStreamReader<TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private int _reading;

    public TResponse Current { get; private set; } = null!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("Only one read can be pending at a time: await the previous MoveNext.");
        }
        try
        {
            // Cancelling a read cancels the call, as in grpc: the stream cannot be resumed mid-message.
            using var registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((GrpcCall<TRequest, TResponse>)state!).CancelByClient(), call)
                : default;
            var message = await call.ReadNextOrEndAsync().ConfigureAwait(false);
            if (message is null)
            {
                return false;
            }
            Current = message;
            return true;
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }
}
