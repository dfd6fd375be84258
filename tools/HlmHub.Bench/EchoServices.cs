using Grpc.Core;
using HlmHub.Identity;

namespace HlmHub.Bench;

/// <summary>
/// hlmhub.bench.Echo as a plain grpc-dotnet service: no authentication, no authorization. Written the way hub
/// services are written (the call's cancellation token passed to every read and write).
/// </summary>
internal sealed class PlainEchoService : Echo.EchoBase
{
    public override Task<EchoMessage> Unary(EchoMessage request, ServerCallContext context) => Task.FromResult(request);

    public override async Task Bidi(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(requestStream.Current, context.CancellationToken);
        }
    }
}

/// <summary>The same echo with a hub rpc contract: every call is authenticated from its bearer token and authorized.</summary>
internal sealed class HubEchoService : Echo.EchoBase
{
    public const string Scope = "hlmhub.bench";

    [RpcPolicy(Scope, CallerKind.Any, Ownership.None)]
    public override Task<EchoMessage> Unary(EchoMessage request, ServerCallContext context) =>
        Task.FromResult(context.GetCaller().Kind == CallerKind.None ? new EchoMessage() : request);

    [RpcPolicy(Scope, CallerKind.Any, Ownership.None)]
    public override async Task Bidi(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(requestStream.Current, context.CancellationToken);
        }
    }
}
