using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HlmHub.Grpc.Tests;

public sealed class BindingTests
{
    [Fact]
    public async Task ServiceMissingAnRpc_FailsMappingAndNamesTheRpc()
    {
        await using var app = CreateApp();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapGrpcService<MissingRpcService>(EchoMethods.Service));

        Assert.Contains("ClientStream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceWithWrongTypes_FailsMappingAndNamesTheRpc()
    {
        await using var app = CreateApp();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapGrpcService<WrongTypesService>(EchoMethods.Service));

        Assert.Contains("Unary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MethodValidatorRefusing_FailsMapping()
    {
        await using var app = CreateApp(services => services.AddSingleton<IGrpcMethodValidator>(new RefuseDuplex()));

        var error = Assert.Throws<InvalidOperationException>(() => app.MapGrpcService<EchoService>(EchoMethods.Service));

        Assert.Contains("no rule for Duplex", error.Message, StringComparison.Ordinal);
    }

    private static WebApplication CreateApp(Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHlmGrpc();
        builder.Services.AddSingleton<EchoProbe>();
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    private sealed class RefuseDuplex : IGrpcMethodValidator
    {
        public void Validate(GrpcMethodDefinition method)
        {
            if (method.Name == "Duplex")
            {
                throw new InvalidOperationException("no rule for Duplex");
            }
        }
    }

    internal sealed class MissingRpcService
    {
        public Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) => Task.FromResult(new EchoReply());

        public Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) => Task.CompletedTask;

        public Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) => Task.CompletedTask;
    }

    internal sealed class WrongTypesService
    {
        public Task<EchoRequest> Unary(EchoRequest request, ServerCallContext context) => Task.FromResult(request);

        public Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context) => Task.FromResult(new EchoReply());

        public Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) => Task.CompletedTask;

        public Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) => Task.CompletedTask;
    }
}
