using Google.Protobuf;
using Grpc.Testing;
using HlmHub.Grpc;
using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// The CompressedResponse feature seen on the wire: grpcio, grpc-js and our client do not expose a
/// received message's compressed flag, so the server_compressed_* assertions on the flag are made
/// here, on the raw response bytes.
/// </summary>
public sealed class RawResponseCompressionTests(InteropServerFixture fixture) : IClassFixture<InteropServerFixture>, IDisposable
{
    private readonly RawGrpc _raw = new(fixture.Server.Address);

    private static readonly IReadOnlyList<KeyValuePair<string, string>> AcceptsGzip = RawGrpc.Headers(("grpc-accept-encoding", "identity,gzip"));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServerCompressedUnary_SetsTheCompressedFlagExactlyWhenAsked(bool responseCompressed)
    {
        var request = new SimpleRequest { ResponseCompressed = new BoolValue { Value = responseCompressed }, ResponseSize = 314159, Payload = new Payload { Body = ByteString.CopyFrom(new byte[271828]) } };

        var response = await _raw.SendAsync(new RawRequest(RawBadInputTests.UnaryCallPath, RawGrpc.Frame(request.ToByteArray()), AcceptsGzip));

        Assert.True(response.GrpcStatus == StatusCode.OK, response.Describe());
        var (flag, payload) = Assert.Single(response.Messages());
        Assert.Equal(responseCompressed ? 1 : 0, flag);
        if (responseCompressed)
        {
            Assert.True(response.Headers.TryGetValues("grpc-encoding", out var encoding) && encoding.Single() == "gzip", response.Describe());
            payload = RawGrpc.Gunzip(payload);
        }
        Assert.Equal(314159, SimpleResponse.Parser.ParseFrom(payload).Payload.Body.Length);
    }

    [Fact]
    public async Task ServerCompressedStreaming_CompressesOnlyTheMessagesThatAskForIt()
    {
        var request = new StreamingOutputCallRequest
        {
            ResponseParameters =
            {
                new ResponseParameters { Compressed = new BoolValue { Value = true }, Size = 31415 },
                new ResponseParameters { Compressed = new BoolValue { Value = false }, Size = 92653 },
            },
        };

        var response = await _raw.SendAsync(new RawRequest(RawBadInputTests.StreamingOutputCallPath, RawGrpc.Frame(request.ToByteArray()), AcceptsGzip));

        Assert.True(response.GrpcStatus == StatusCode.OK, response.Describe());
        var messages = response.Messages();
        Assert.Equal([1, 0], messages.Select(message => (int)message.Flag));
        Assert.Equal(31415, StreamingOutputCallResponse.Parser.ParseFrom(RawGrpc.Gunzip(messages[0].Payload)).Payload.Body.Length);
        Assert.Equal(92653, StreamingOutputCallResponse.Parser.ParseFrom(messages[1].Payload).Payload.Body.Length);
    }

    [Fact]
    public async Task ResponseCompressionAsked_ClientWithoutGzip_GetsUncompressedMessages()
    {
        // Never compress with an algorithm the peer did not advertise: this client sends no grpc-accept-encoding.
        var request = new SimpleRequest { ResponseCompressed = new BoolValue { Value = true }, ResponseSize = 1000 };

        var response = await _raw.SendAsync(new RawRequest(RawBadInputTests.UnaryCallPath, RawGrpc.Frame(request.ToByteArray()), []));

        Assert.True(response.GrpcStatus == StatusCode.OK, response.Describe());
        var (flag, payload) = Assert.Single(response.Messages());
        Assert.Equal(0, flag);
        Assert.False(response.Headers.TryGetValues("grpc-encoding", out var encoding) && encoding.Single() != "identity", response.Describe());
        Assert.Equal(1000, SimpleResponse.Parser.ParseFrom(payload).Payload.Body.Length);
    }

    public void Dispose() => _raw.Dispose();
}
