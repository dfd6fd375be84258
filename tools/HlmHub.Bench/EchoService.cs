using HlmHub.Grpc;

namespace HlmHub.Bench;

/// <summary>
/// hlmhub.bench.Echo on our transport. Written the way hub services are written (the call's
/// cancellation token passed to every read and write), so the benchmark measures that path.
/// </summary>
internal sealed class EchoService
{
    public Task<EchoMessage> Unary(EchoMessage request, ServerCallContext context) => Task.FromResult(request);

    public async Task Bidi(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(requestStream.Current, context.CancellationToken);
        }
    }
}
