using System.Collections.Concurrent;
using Google.Protobuf;
using HlmHub.Grpc.Client;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Grpc.Tests;

public sealed class CompressionTests
{
    private static EchoRequest Compressible(int bytes = 10_000) => new() { Message = new string('a', bytes) };

    [Fact]
    public async Task GzipRequests_AreInflatedByTheServer()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var channel = server.CreateChannel(new GrpcChannelOptions { RequestCompressionAlgorithm = "gzip" });

        var reply = await channel.UnaryCall(EchoMethods.Unary, Compressible()).ResponseAsync.DefaultTimeout();

        Assert.True(reply.RequestWasCompressed);
        Assert.Equal(10_000, reply.Message.Length);
    }

    [Fact]
    public async Task GzipClientStream_EveryMessageArrivesCompressed_UnlessNoCompressIsSet()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var channel = server.CreateChannel(new GrpcChannelOptions { RequestCompressionAlgorithm = "gzip" });

        using var call = channel.DuplexStreamingCall(EchoMethods.Duplex);
        await call.RequestStream.WriteAsync(Compressible(), CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var first = call.ResponseStream.Current;
        call.RequestStream.WriteOptions = new WriteOptions(NoCompress: true);
        await call.RequestStream.WriteAsync(Compressible(), CancellationToken.None).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var second = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.True(first.RequestWasCompressed);
        Assert.False(second.RequestWasCompressed);
        Assert.Equal(10_000, second.Message.Length);
    }

    [Fact]
    public async Task GzipResponses_AreInflatedByTheClient()
    {
        await using var server = await GrpcTestServer.StartAsync(configureGrpc: options => options.ResponseCompressionAlgorithm = "gzip");
        using var recorder = new RecordingHandler();
        var channel = server.CreateChannel(new GrpcChannelOptions { HttpHandler = recorder });

        using var call = channel.ServerStreamingCall(EchoMethods.ServerStream, new EchoRequest { Message = new string('b', 5000), ReplyCount = 3 });
        var replies = new List<EchoReply>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            replies.Add(call.ResponseStream.Current);
        }

        Assert.Equal(3, replies.Count);
        Assert.All(replies, reply => Assert.Equal(5000, reply.Message.Length));
        Assert.Equal("gzip", recorder.ResponseEncodings.Single());
    }

    [Fact]
    public async Task ClientThatDoesNotAcceptGzip_GetsIdentityResponses()
    {
        await using var server = await GrpcTestServer.StartAsync(configureGrpc: options => options.ResponseCompressionAlgorithm = "gzip");
        using var recorder = new RecordingHandler();
        var channel = server.CreateChannel(new GrpcChannelOptions { HttpHandler = recorder, AcceptedEncodings = ["identity"] });

        var reply = await channel.UnaryCall(EchoMethods.Unary, Compressible()).ResponseAsync.DefaultTimeout();

        Assert.Equal(10_000, reply.Message.Length);
        Assert.NotEqual("gzip", recorder.ResponseEncodings.Single());
    }

    [Fact]
    public async Task GzipBombResponse_IsResourceExhaustedNotAnOutOfMemory()
    {
        await using var server = await GrpcTestServer.StartAsync(configureGrpc: options => options.ResponseCompressionAlgorithm = "gzip");
        var channel = server.CreateChannel(new GrpcChannelOptions { MaxReceiveMessageSizeBytes = 64 * 1024 });

        // One megabyte of zeros compresses to about a kilobyte: small on the wire, over the limit once inflated.
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryCall(EchoMethods.Unary, new EchoRequest { ReplyPayloadSize = 1024 * 1024 }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task UnknownRequestEncoding_IsUnimplementedAndListsWhatTheServerAccepts()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame(new EchoRequest().ToByteArray(), compressedFlag: true));
        request.Headers.TryAddWithoutValidation("grpc-encoding", "snappy");

        using var response = await http.SendAsync(request).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync().DefaultTimeout();
        var status = RawGrpc.Header(response.Headers, "grpc-status") ?? RawGrpc.Header(response.TrailingHeaders, "grpc-status");

        Assert.Equal("12", status);
        Assert.Contains("gzip", RawGrpc.Header(response.Headers, "grpc-accept-encoding"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompressedFlagWithoutEncoding_IsAnError()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame(new EchoRequest().ToByteArray(), compressedFlag: true));

        using var response = await http.SendAsync(request).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync().DefaultTimeout();
        var status = RawGrpc.Header(response.Headers, "grpc-status") ?? RawGrpc.Header(response.TrailingHeaders, "grpc-status");

        Assert.Equal(((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture), status);
    }

    [Fact]
    public async Task ServerThatDoesNotAdvertiseGzip_OnlyTheFirstCallIsCompressed()
    {
        var encodings = new ConcurrentQueue<string>();
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/IdentityOnly", async context =>
        {
            encodings.Enqueue(context.Request.Headers["grpc-encoding"].ToString());
            var compressed = context.Request.Headers["grpc-encoding"] == "gzip";
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-accept-encoding"] = "identity";
            if (compressed)
            {
                context.Response.Headers["grpc-status"] = "12";
                return;
            }
            await context.Request.Body.CopyToAsync(Stream.Null);
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Message = "plain" }));
            context.Response.AppendTrailer("grpc-status", "0");
        }));
        var channel = server.CreateChannel(new GrpcChannelOptions { RequestCompressionAlgorithm = "gzip" });
        var method = new Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "IdentityOnly");

        var first = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryCall(method, Compressible()).ResponseAsync).DefaultTimeout();
        var second = await channel.UnaryCall(method, Compressible()).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, first.StatusCode);
        Assert.Equal("plain", second.Message);
        Assert.Equal(["gzip", ""], encodings);
    }

    /// <summary>Records the grpc-encoding of each response, which the metadata API leaves out.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentQueue<string> ResponseEncodings { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            ResponseEncodings.Enqueue(RawGrpc.Header(response.Headers, "grpc-encoding") ?? "identity");
            return response;
        }
    }
}
