using Google.Protobuf.Reflection;
using HlmHub.Grpc.Client;
using HlmHub.Grpc.Health;
using HlmHub.Grpc.Health.V1;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using ServingStatus = HlmHub.Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using V1 = HlmHub.Grpc.Reflection.V1;
using V1Alpha = HlmHub.Grpc.Reflection.V1Alpha;

namespace HlmHub.Grpc.Tests;

public sealed class HealthAndReflectionTests
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = new(HealthReflection.Descriptor.Services[0].FindMethodByName("Check"));
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch = new(HealthReflection.Descriptor.Services[0].FindMethodByName("Watch"));
    private static readonly Method<V1.ServerReflectionRequest, V1.ServerReflectionResponse> ReflectionV1 = new(V1.ReflectionReflection.Descriptor.Services[0].FindMethodByName("ServerReflectionInfo"));
    private static readonly Method<V1Alpha.ServerReflectionRequest, V1Alpha.ServerReflectionResponse> ReflectionV1Alpha = new(V1Alpha.ReflectionReflection.Descriptor.Services[0].FindMethodByName("ServerReflectionInfo"));

    [Theory]
    [InlineData("")]
    [InlineData("hlmhub.testing.EchoService")]
    public async Task HealthCheck_MappedServiceAndServer_AreServing(string service)
    {
        await using var server = await GrpcTestServer.StartAsync();

        var response = await server.Channel.UnaryCall(Check, new HealthCheckRequest { Service = service }).ResponseAsync.DefaultTimeout();

        Assert.Equal(ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task HealthCheck_UnknownService_IsNotFound()
    {
        await using var server = await GrpcTestServer.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(Check, new HealthCheckRequest { Service = "no.Such" }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task HealthWatch_StreamsStatusChanges()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var registry = server.Services.GetRequiredService<HealthStatusRegistry>();

        using var call = server.Channel.ServerStreamingCall(Watch, new HealthCheckRequest { Service = "hlmhub.testing.EchoService" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var first = call.ResponseStream.Current.Status;
        registry.SetStatus("hlmhub.testing.EchoService", ServingStatus.NotServing);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var second = call.ResponseStream.Current.Status;

        Assert.Equal(ServingStatus.Serving, first);
        Assert.Equal(ServingStatus.NotServing, second);
    }

    [Fact]
    public async Task ReflectionV1_ListsEveryService()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(ReflectionV1);
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = "" }, CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Contains("hlmhub.testing.EchoService", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);
    }

    [Fact]
    public async Task ReflectionV1_FileContainingSymbol_DescribesTheService()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(ReflectionV1);
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { FileContainingSymbol = "hlmhub.testing.EchoService" }, CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(bytes => FileDescriptorProto.Parser.ParseFrom(bytes)).ToList();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        var file = Assert.Single(files, f => f.Package == "hlmhub.testing");
        Assert.Equal(["Unary", "ClientStream", "ServerStream", "Duplex"], file.Service.Single(s => s.Name == "EchoService").Method.Select(m => m.Name));
    }

    [Fact]
    public async Task ReflectionV1_UnknownSymbol_IsAnErrorResponseNotABrokenStream()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(ReflectionV1);
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { FileContainingSymbol = "no.Such" }, CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var error = call.ResponseStream.Current.ErrorResponse;
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Equal((int)StatusCode.NotFound, error.ErrorCode);
    }

    [Fact]
    public async Task ReflectionV1Alpha_ListsEveryService()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(ReflectionV1Alpha);
        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { ListServices = "" }, CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Contains("hlmhub.testing.EchoService", services);
    }
}
