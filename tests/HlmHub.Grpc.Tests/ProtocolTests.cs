using System.Net;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;

namespace HlmHub.Grpc.Tests;

public sealed class ProtocolTests
{
    [Fact]
    public async Task NonGrpcContentType_Gets415()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame(new EchoRequest()), contentType: "application/json");

        using var response = await http.SendAsync(request).DefaultTimeout();

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("13", RawGrpc.Header(response.Headers, "grpc-status"));
    }

    [Fact]
    public async Task UnknownService_IsUnimplemented()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "hlmhub.testing.NoSuchService", "Unary");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(method, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Contains("hlmhub.testing.NoSuchService", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownMethodOfAKnownService_IsUnimplemented()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.DuplexStreaming, "hlmhub.testing.EchoService", "NoSuchMethod");

        using var call = server.Channel.DuplexStreamingCall(method);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None)).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Contains("NoSuchMethod", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallToAClosedPort_IsUnavailable()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var channel = Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}");

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task MalformedRequestMessage_IsAnErrorAndTheServerKeepsServing()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame([0xFF, 0xFF, 0xFF]));

        using var response = await http.SendAsync(request).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync().DefaultTimeout();
        var status = RawGrpc.Header(response.Headers, "grpc-status") ?? RawGrpc.Header(response.TrailingHeaders, "grpc-status");

        Assert.NotEqual("0", status);
        Assert.NotNull(status);
        Assert.Equal("ok", (await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "ok" }).ResponseAsync.DefaultTimeout()).Message);
    }
}
