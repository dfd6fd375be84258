using Google.Protobuf;
using HlmHub.Grpc.Client;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;

namespace HlmHub.Grpc.Tests;

public sealed class MessageSizeTests
{
    private static EchoRequest WithPayload(int bytes) => new() { Message = "big", Payload = ByteString.CopyFrom(new byte[bytes]) };

    [Fact]
    public async Task DefaultLimits_AllowAMessageJustUnder4MiB()
    {
        await using var server = await GrpcTestServer.StartAsync();

        var reply = await server.Channel.UnaryCall(EchoMethods.Unary, WithPayload(4 * 1024 * 1024 - 64)).ResponseAsync.DefaultTimeout();

        Assert.Equal(4 * 1024 * 1024 - 64, reply.Payload.Length);
    }

    [Fact]
    public async Task ClientSendsMoreThanItsLimit_ResourceExhaustedBeforeSending()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var channel = server.CreateChannel(new GrpcChannelOptions { MaxSendMessageSizeBytes = 1024 });

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryCall(EchoMethods.Unary, WithPayload(2048)).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.False(server.Probe.RequestHeaders.Task.IsCompleted);
    }

    [Fact]
    public async Task ClientStreamWritesMoreThanItsLimit_WriteFailsWithResourceExhausted()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var channel = server.CreateChannel(new GrpcChannelOptions { MaxSendMessageSizeBytes = 1024 });

        using var call = channel.ClientStreamingCall(EchoMethods.ClientStream);
        await call.RequestStream.WriteAsync(WithPayload(10), CancellationToken.None).DefaultTimeout();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(WithPayload(2048), CancellationToken.None)).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout()).StatusCode);
    }

    [Fact]
    public async Task ServerReceivesMoreThanItsLimit_ResourceExhaustedAndKeepsServing()
    {
        await using var server = await GrpcTestServer.StartAsync(configureGrpc: options => options.MaxReceiveMessageSizeBytes = 64 * 1024);

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(EchoMethods.Unary, WithPayload(100 * 1024)).ResponseAsync).DefaultTimeout();
        var next = await server.Channel.UnaryCall(EchoMethods.Unary, WithPayload(1000)).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(1000, next.Payload.Length);
    }

    [Fact]
    public async Task ServerReceivesTooLargeStreamedMessage_ResourceExhausted()
    {
        await using var server = await GrpcTestServer.StartAsync(configureGrpc: options => options.MaxReceiveMessageSizeBytes = 64 * 1024);

        using var call = server.Channel.ClientStreamingCall(EchoMethods.ClientStream);
        await call.RequestStream.WriteAsync(WithPayload(10), CancellationToken.None).DefaultTimeout();
        try
        {
            await call.RequestStream.WriteAsync(WithPayload(100 * 1024), CancellationToken.None).DefaultTimeout();
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (RpcException)
        {
            // The server may already have ended the call: the status below is what matters.
        }

        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout()).StatusCode);
    }

    [Fact]
    public async Task ServerSendsMoreThanItsLimit_ResourceExhausted()
    {
        await using var server = await GrpcTestServer.StartAsync(configureGrpc: options => options.MaxSendMessageSizeBytes = 64 * 1024);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { ReplyPayloadSize = 100 * 1024 }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task ClientReceivesMoreThanItsLimit_ResourceExhaustedAndChannelKeepsWorking()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var channel = server.CreateChannel(new GrpcChannelOptions { MaxReceiveMessageSizeBytes = 1024 });

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryCall(EchoMethods.Unary, new EchoRequest { ReplyPayloadSize = 2048 }).ResponseAsync).DefaultTimeout();
        var next = await channel.UnaryCall(EchoMethods.Unary, new EchoRequest { ReplyPayloadSize = 100 }).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(100, next.Payload.Length);
    }

    [Fact]
    public async Task ClientReceivesTooLargeStreamMessage_ResourceExhaustedAfterTheSmallerOnes()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var channel = server.CreateChannel(new GrpcChannelOptions { MaxReceiveMessageSizeBytes = 1024 });

        using var call = channel.DuplexStreamingCall(EchoMethods.Duplex);
        await call.RequestStream.WriteAsync(new EchoRequest { ReplyPayloadSize = 100 }, CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        await call.RequestStream.WriteAsync(new EchoRequest { ReplyPayloadSize = 4096 }, CancellationToken.None).DefaultTimeout();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None)).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}
