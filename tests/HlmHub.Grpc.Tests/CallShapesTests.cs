using Google.Protobuf;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;

namespace HlmHub.Grpc.Tests;

public sealed class CallShapesTests
{
    [Fact]
    public async Task UnaryCall_ReturnsTheEchoedMessage()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "bonjour", Payload = ByteString.CopyFromUtf8("abc") });
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal("bonjour", reply.Message);
        Assert.Equal("abc", reply.Payload.ToStringUtf8());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ManyConcurrentUnaryCalls_AllSucceed()
    {
        await using var server = await GrpcTestServer.StartAsync();

        var calls = Enumerable.Range(0, 200)
            .Select(async i => (await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = $"m{i}" })).Message);
        var replies = await Task.WhenAll(calls).DefaultTimeout();

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"m{i}"), replies);
    }

    [Fact]
    public async Task ClientStreamingCall_ServerReceivesEveryMessage()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.ClientStreamingCall(EchoMethods.ClientStream);
        for (var i = 0; i < 10; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}", Payload = ByteString.CopyFrom(new byte[100]) }, CancellationToken.None).DefaultTimeout();
        }
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(10, reply.ReceivedCount);
        Assert.Equal(1000, reply.ReceivedBytes);
        Assert.Equal("m9", reply.Message);
    }

    [Fact]
    public async Task ClientStreamingCall_WithNoMessages_Completes()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.ClientStreamingCall(EchoMethods.ClientStream);
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(0, reply.ReceivedCount);
    }

    [Fact]
    public async Task ServerStreamingCall_ReceivesEveryReplyInOrder()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.ServerStreamingCall(EchoMethods.ServerStream, new EchoRequest { Message = "s", ReplyCount = 50 });
        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            indexes.Add(reply.Index);
        }

        Assert.Equal(Enumerable.Range(0, 50), indexes);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ServerStreamingCall_WithNoReplies_EndsCleanly()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.ServerStreamingCall(EchoMethods.ServerStream, new EchoRequest { ReplyCount = 0 });

        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task DuplexCall_PingPong_EachRequestGetsItsReplyBeforeTheNextIsSent()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(EchoMethods.Duplex);
        for (var i = 0; i < 20; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"ping{i}" }, CancellationToken.None).DefaultTimeout();
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            Assert.Equal($"ping{i}", call.ResponseStream.Current.Message);
        }
        await call.RequestStream.CompleteAsync().DefaultTimeout();

        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task DuplexCall_WithNoMessages_EndsCleanly()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(EchoMethods.Duplex);
        await call.RequestStream.CompleteAsync().DefaultTimeout();

        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
    }

    [Fact]
    public async Task WriteAfterComplete_Throws()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.ClientStreamingCall(EchoMethods.ClientStream);
        await call.RequestStream.CompleteAsync().DefaultTimeout();

        await Assert.ThrowsAsync<InvalidOperationException>(() => call.RequestStream.WriteAsync(new EchoRequest(), CancellationToken.None)).DefaultTimeout();
        await call.ResponseAsync.DefaultTimeout();
    }

    [Fact]
    public void MethodFromDescriptor_WithWrongMessageType_IsRefused()
    {
        var descriptor = EchoMethods.Service.FindMethodByName("Unary");

        var error = Assert.Throws<ArgumentException>(() => new Client.Method<EchoReply, EchoReply>(descriptor));

        Assert.Contains("hlmhub.testing.EchoRequest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MethodFromDescriptor_HasTheGrpcPath()
    {
        Assert.Equal("/hlmhub.testing.EchoService/ClientStream", EchoMethods.ClientStream.FullName);
        Assert.Equal(MethodType.ClientStreaming, EchoMethods.ClientStream.Type);
        Assert.Equal(MethodType.DuplexStreaming, EchoMethods.Duplex.Type);
    }
}
