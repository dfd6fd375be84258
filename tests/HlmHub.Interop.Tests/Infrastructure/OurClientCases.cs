using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Testing;
using HlmHub.Grpc;
using HlmHub.Grpc.Client;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// The interop cases (grpc's doc/interop-test-descriptions.md) driven by our client,
/// HlmHub.Grpc.Client, against any server speaking grpc.testing.TestService.
/// </summary>
internal static class OurClientCases
{
    /// <summary>Deadline of every call, so a hung server fails the case instead of the run.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    private const string EchoInitialKey = "x-grpc-test-echo-initial";
    private const string EchoInitialValue = "test_initial_metadata_value";
    private const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";
    private static readonly byte[] EchoTrailingValue = [0xab, 0xab, 0xab];
    private const string SpecialStatusMessage = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001F608\t\n";

    private static readonly ServiceDescriptor TestService = TestReflection.Descriptor.Services.Single(service => service.Name == "TestService");
    private static readonly Method<Empty, Empty> EmptyCall = new(TestService.FindMethodByName("EmptyCall"));
    private static readonly Method<SimpleRequest, SimpleResponse> UnaryCall = new(TestService.FindMethodByName("UnaryCall"));
    private static readonly Method<StreamingOutputCallRequest, StreamingOutputCallResponse> StreamingOutputCall = new(TestService.FindMethodByName("StreamingOutputCall"));
    private static readonly Method<StreamingInputCallRequest, StreamingInputCallResponse> StreamingInputCall = new(TestService.FindMethodByName("StreamingInputCall"));
    private static readonly Method<StreamingOutputCallRequest, StreamingOutputCallResponse> FullDuplexCall = new(TestService.FindMethodByName("FullDuplexCall"));
    private static readonly Method<Empty, Empty> UnimplementedCall = new(TestService.FindMethodByName("UnimplementedCall"));
    private static readonly Method<Empty, Empty> UnimplementedServiceCall = new(MethodType.Unary, "grpc.testing.UnimplementedService", "UnimplementedCall");

    private static readonly Dictionary<string, Func<Channels, Task>> Cases = new(StringComparer.Ordinal)
    {
        ["empty_unary"] = EmptyUnaryAsync,
        ["large_unary"] = LargeUnaryAsync,
        ["client_streaming"] = ClientStreamingAsync,
        ["server_streaming"] = ServerStreamingAsync,
        ["ping_pong"] = PingPongAsync,
        ["empty_stream"] = EmptyStreamAsync,
        ["custom_metadata"] = CustomMetadataAsync,
        ["status_code_and_message"] = StatusCodeAndMessageAsync,
        ["special_status_message"] = SpecialStatusMessageAsync,
        ["unimplemented_method"] = UnimplementedMethodAsync,
        ["unimplemented_service"] = UnimplementedServiceAsync,
        ["cancel_after_begin"] = CancelAfterBeginAsync,
        ["cancel_after_first_response"] = CancelAfterFirstResponseAsync,
        ["timeout_on_sleeping_server"] = TimeoutOnSleepingServerAsync,
        ["client_compressed_unary"] = ClientCompressedUnaryAsync,
        ["server_compressed_unary"] = ServerCompressedUnaryAsync,
        ["client_compressed_streaming"] = ClientCompressedStreamingAsync,
        ["server_compressed_streaming"] = ServerCompressedStreamingAsync,
    };

    /// <summary>Runs <paramref name="testCase"/> against <paramref name="server"/> on fresh channels.</summary>
    public static async Task RunAsync(string testCase, Uri server)
    {
        var run = Cases[testCase];
        using var plain = GrpcChannel.ForAddress(server);
        using var compressing = GrpcChannel.ForAddress(server, new GrpcChannelOptions { RequestCompressionAlgorithm = "gzip" });
        await run(new Channels(plain, compressing)).WaitAsync(CallTimeout * 2);
    }

    /// <param name="Plain">A channel that never compresses requests.</param>
    /// <param name="Compressing">A channel whose requests are gzip-compressed unless a write says otherwise.</param>
    private sealed record Channels(GrpcChannel Plain, GrpcChannel Compressing);

    private static CallOptions Options(Metadata? headers = null, CancellationToken cancellationToken = default) =>
        new(Headers: headers, Deadline: TimeProvider.System.GetUtcNow().UtcDateTime + CallTimeout, CancellationToken: cancellationToken);

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };

    private static StreamingOutputCallRequest OutputRequest(int responseSize, int payloadSize) => new()
    {
        ResponseParameters = { new ResponseParameters { Size = responseSize } },
        Payload = Zeros(payloadSize),
    };

    private static async Task<List<int>> ReadSizesAsync(IAsyncStreamReader<StreamingOutputCallResponse> stream)
    {
        var sizes = new List<int>();
        await foreach (var response in stream.ReadAllAsync())
        {
            sizes.Add(response.Payload.Body.Length);
        }
        return sizes;
    }

    private static async Task<RpcException> AssertStatusAsync(Func<Task> call, StatusCode expected)
    {
        var exception = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(exception.StatusCode == expected, $"Expected {expected}, got {exception.Status}.");
        return exception;
    }

    private static async Task EmptyUnaryAsync(Channels channels)
    {
        var response = await channels.Plain.UnaryCall(EmptyCall, new Empty(), Options());
        Assert.NotNull(response);
        Assert.Equal(0, response.CalculateSize());
    }

    private static async Task LargeUnaryAsync(Channels channels)
    {
        var response = await channels.Plain.UnaryCall(UnaryCall, new SimpleRequest { ResponseSize = 314159, Payload = Zeros(271828) }, Options());
        Assert.Equal(314159, response.Payload.Body.Length);
        Assert.True(response.Payload.Body.Span.IndexOfAnyExcept((byte)0) < 0, "The payload is not all zeros.");
    }

    private static async Task ClientStreamingAsync(Channels channels)
    {
        using var call = channels.Plain.ClientStreamingCall(StreamingInputCall, Options());
        foreach (var size in new[] { 27182, 8, 1828, 45904 })
        {
            await call.RequestStream.WriteAsync(new StreamingInputCallRequest { Payload = Zeros(size) }, CancellationToken.None);
        }
        await call.RequestStream.CompleteAsync();
        Assert.Equal(74922, (await call.ResponseAsync).AggregatedPayloadSize);
    }

    private static async Task ServerStreamingAsync(Channels channels)
    {
        int[] sizes = [31415, 9, 2653, 58979];
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.AddRange(sizes.Select(size => new ResponseParameters { Size = size }));
        using var call = channels.Plain.ServerStreamingCall(StreamingOutputCall, request, Options());
        Assert.Equal(sizes, await ReadSizesAsync(call.ResponseStream));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    private static async Task PingPongAsync(Channels channels)
    {
        int[] requestSizes = [27182, 8, 1828, 45904];
        int[] responseSizes = [31415, 9, 2653, 58979];
        using var call = channels.Plain.DuplexStreamingCall(FullDuplexCall, Options());
        for (var index = 0; index < requestSizes.Length; index++)
        {
            await call.RequestStream.WriteAsync(OutputRequest(responseSizes[index], requestSizes[index]), CancellationToken.None);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None), $"No response {index}.");
            Assert.Equal(responseSizes[index], call.ResponseStream.Current.Payload.Body.Length);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None), "More than four responses.");
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    private static async Task EmptyStreamAsync(Channels channels)
    {
        using var call = channels.Plain.DuplexStreamingCall(FullDuplexCall, Options());
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None), "A response to an empty stream.");
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    private static async Task CustomMetadataAsync(Channels channels)
    {
        var headers = new Metadata().Add(EchoInitialKey, EchoInitialValue).Add(EchoTrailingKey, EchoTrailingValue);

        using (var unary = channels.Plain.UnaryCall(UnaryCall, new SimpleRequest { ResponseSize = 314159, Payload = Zeros(271828) }, Options(headers)))
        {
            Assert.Equal(314159, (await unary).Payload.Body.Length);
            Assert.Equal(EchoInitialValue, (await unary.ResponseHeadersAsync).GetValue(EchoInitialKey));
            Assert.Equal(EchoTrailingValue, unary.GetTrailers().GetValueBytes(EchoTrailingKey));
        }

        using var duplex = channels.Plain.DuplexStreamingCall(FullDuplexCall, Options(headers));
        await duplex.RequestStream.WriteAsync(OutputRequest(314159, 271828), CancellationToken.None);
        await duplex.RequestStream.CompleteAsync();
        Assert.Equal([314159], await ReadSizesAsync(duplex.ResponseStream));
        Assert.Equal(EchoInitialValue, (await duplex.ResponseHeadersAsync).GetValue(EchoInitialKey));
        Assert.Equal(EchoTrailingValue, duplex.GetTrailers().GetValueBytes(EchoTrailingKey));
    }

    private static async Task StatusCodeAndMessageAsync(Channels channels)
    {
        var status = new EchoStatus { Code = 2, Message = "test status message" };
        var unary = await AssertStatusAsync(
            async () => await channels.Plain.UnaryCall(UnaryCall, new SimpleRequest { ResponseStatus = status }, Options()),
            StatusCode.Unknown);
        Assert.Equal("test status message", unary.Status.Detail);

        using var duplex = channels.Plain.DuplexStreamingCall(FullDuplexCall, Options());
        await duplex.RequestStream.WriteAsync(new StreamingOutputCallRequest { ResponseStatus = status }, CancellationToken.None);
        await duplex.RequestStream.CompleteAsync();
        var streamed = await AssertStatusAsync(() => duplex.ResponseStream.MoveNext(CancellationToken.None), StatusCode.Unknown);
        Assert.Equal("test status message", streamed.Status.Detail);
    }

    private static async Task SpecialStatusMessageAsync(Channels channels)
    {
        var request = new SimpleRequest { ResponseStatus = new EchoStatus { Code = 2, Message = SpecialStatusMessage } };
        var exception = await AssertStatusAsync(async () => await channels.Plain.UnaryCall(UnaryCall, request, Options()), StatusCode.Unknown);
        Assert.Equal(SpecialStatusMessage, exception.Status.Detail);
    }

    private static Task UnimplementedMethodAsync(Channels channels) =>
        AssertStatusAsync(async () => await channels.Plain.UnaryCall(UnimplementedCall, new Empty(), Options()), StatusCode.Unimplemented);

    private static Task UnimplementedServiceAsync(Channels channels) =>
        AssertStatusAsync(async () => await channels.Plain.UnaryCall(UnimplementedServiceCall, new Empty(), Options()), StatusCode.Unimplemented);

    private static async Task CancelAfterBeginAsync(Channels channels)
    {
        using var cancellation = new CancellationTokenSource();
        using var call = channels.Plain.ClientStreamingCall(StreamingInputCall, Options(cancellationToken: cancellation.Token));
        await cancellation.CancelAsync();
        await AssertStatusAsync(() => call.ResponseAsync, StatusCode.Cancelled);
    }

    private static async Task CancelAfterFirstResponseAsync(Channels channels)
    {
        using var cancellation = new CancellationTokenSource();
        using var call = channels.Plain.DuplexStreamingCall(FullDuplexCall, Options(cancellationToken: cancellation.Token));
        await call.RequestStream.WriteAsync(OutputRequest(31415, 27182), CancellationToken.None);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None), "No first response.");
        Assert.Equal(31415, call.ResponseStream.Current.Payload.Body.Length);
        await cancellation.CancelAsync();
        await AssertStatusAsync(() => call.ResponseStream.MoveNext(CancellationToken.None), StatusCode.Cancelled);
    }

    private static async Task TimeoutOnSleepingServerAsync(Channels channels)
    {
        var options = Options() with { Deadline = TimeProvider.System.GetUtcNow().UtcDateTime + TimeSpan.FromMilliseconds(1) };
        using var call = channels.Plain.DuplexStreamingCall(FullDuplexCall, options);
        try
        {
            await call.RequestStream.WriteAsync(new StreamingOutputCallRequest { Payload = Zeros(27182) }, CancellationToken.None);
        }
        catch (RpcException exception) when (exception.StatusCode == StatusCode.DeadlineExceeded)
        {
            // The deadline may pass before the write: the call has already ended as the case expects.
        }
        await AssertStatusAsync(() => call.ResponseStream.MoveNext(CancellationToken.None), StatusCode.DeadlineExceeded);
    }

    private static async Task ClientCompressedUnaryAsync(Channels channels)
    {
        static SimpleRequest Request(bool expectCompressed) => new()
        {
            ExpectCompressed = new BoolValue { Value = expectCompressed },
            ResponseSize = 314159,
            Payload = Zeros(271828),
        };

        // The feature probe: an uncompressed message that claims to be compressed must be refused.
        await AssertStatusAsync(async () => await channels.Plain.UnaryCall(UnaryCall, Request(true), Options()), StatusCode.InvalidArgument);
        Assert.Equal(314159, (await channels.Compressing.UnaryCall(UnaryCall, Request(true), Options())).Payload.Body.Length);
        var uncompressed = Options() with { WriteOptions = new WriteOptions(NoCompress: true) };
        Assert.Equal(314159, (await channels.Compressing.UnaryCall(UnaryCall, Request(false), uncompressed)).Payload.Body.Length);
    }

    private static async Task ServerCompressedUnaryAsync(Channels channels)
    {
        // Our client does not expose a response's compressed flag: the raw HTTP/2 tests check it on
        // our server; here both variants must decode to the right payload.
        foreach (var compressed in new[] { true, false })
        {
            var request = new SimpleRequest
            {
                ResponseCompressed = new BoolValue { Value = compressed },
                ResponseSize = 314159,
                Payload = Zeros(271828),
            };
            Assert.Equal(314159, (await channels.Plain.UnaryCall(UnaryCall, request, Options())).Payload.Body.Length);
        }
    }

    private static async Task ClientCompressedStreamingAsync(Channels channels)
    {
        using (var probe = channels.Plain.ClientStreamingCall(StreamingInputCall, Options()))
        {
            await probe.RequestStream.WriteAsync(new StreamingInputCallRequest { ExpectCompressed = new BoolValue { Value = true }, Payload = Zeros(27182) }, CancellationToken.None);
            await probe.RequestStream.CompleteAsync();
            await AssertStatusAsync(() => probe.ResponseAsync, StatusCode.InvalidArgument);
        }

        using var call = channels.Compressing.ClientStreamingCall(StreamingInputCall, Options());
        await call.RequestStream.WriteAsync(new StreamingInputCallRequest { ExpectCompressed = new BoolValue { Value = true }, Payload = Zeros(27182) }, CancellationToken.None);
        call.RequestStream.WriteOptions = new WriteOptions(NoCompress: true);
        await call.RequestStream.WriteAsync(new StreamingInputCallRequest { ExpectCompressed = new BoolValue { Value = false }, Payload = Zeros(45904) }, CancellationToken.None);
        await call.RequestStream.CompleteAsync();
        Assert.Equal(73086, (await call.ResponseAsync).AggregatedPayloadSize);
    }

    private static async Task ServerCompressedStreamingAsync(Channels channels)
    {
        var request = new StreamingOutputCallRequest
        {
            ResponseParameters =
            {
                new ResponseParameters { Compressed = new BoolValue { Value = true }, Size = 31415 },
                new ResponseParameters { Compressed = new BoolValue { Value = false }, Size = 92653 },
            },
        };
        using var call = channels.Plain.ServerStreamingCall(StreamingOutputCall, request, Options());
        Assert.Equal([31415, 92653], await ReadSizesAsync(call.ResponseStream));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }
}
