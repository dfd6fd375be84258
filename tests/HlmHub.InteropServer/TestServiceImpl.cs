using Google.Protobuf;
using Grpc.Testing;
using HlmHub.Grpc;

namespace HlmHub.InteropServer;

/// <summary>
/// grpc.testing.TestService as grpc's doc/interop-test-descriptions.md ("Server" section) describes
/// it: payloads of the requested sizes, Echo Status, Echo Metadata, CompressedRequest and
/// CompressedResponse, ResponseParameters.interval_us.
/// </summary>
internal sealed class TestServiceImpl(TimeProvider timeProvider)
{
    internal const string EchoInitialKey = "x-grpc-test-echo-initial";
    internal const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";
    internal const string CompressionAlgorithm = "gzip";

    /// <summary>
    /// Largest payload one request may ask for, summed over its responses (16 MiB). Above the
    /// transport's 4 MiB send limit on purpose, so that limit is still exercised, but bounded so
    /// that a fuzzed request cannot make the server allocate gigabytes.
    /// </summary>
    internal const long MaxRequestedPayloadBytes = 16L * 1024 * 1024;

    /// <summary>Longest interval_us honoured (10 s): longer ones are refused rather than parking a call.</summary>
    internal const int MaxIntervalMicroseconds = 10_000_000;

    public async Task<Empty> EmptyCall(Empty request, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        return new Empty();
    }

    public async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        if (request.ResponseCompressed?.Value == true)
        {
            context.ResponseCompressionAlgorithm = CompressionAlgorithm;
        }
        await EchoMetadataAsync(context);
        EnsureCompressedIfExpected(request.ExpectCompressed, context);
        ThrowIfStatusRequested(request.ResponseStatus);
        EnsureSupportedPayloadType(request.ResponseType);
        EnsurePayloadSizeAllowed(request.ResponseSize);
        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public async Task<SimpleResponse> CacheableUnaryCall(SimpleRequest request, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        // The descriptions ask for a different payload per call: the current time in nanoseconds.
        var nanoseconds = (timeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        return new SimpleResponse
        {
            Payload = new Payload { Type = PayloadType.Compressable, Body = ByteString.CopyFromUtf8(nanoseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
        };
    }

    public async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        PrepareResponseCompression(request, context);
        await EchoMetadataAsync(context);
        ThrowIfStatusRequested(request.ResponseStatus);
        await WriteResponsesAsync(request, responseStream, context);
    }

    public async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var aggregatedPayloadSize = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = requestStream.Current;
            EnsureCompressedIfExpected(request.ExpectCompressed, context);
            aggregatedPayloadSize = checked(aggregatedPayloadSize + (request.Payload?.Body.Length ?? 0));
        }
        return new StreamingInputCallResponse { AggregatedPayloadSize = aggregatedPayloadSize };
    }

    public async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        var headersSent = false;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = requestStream.Current;
            if (!headersSent)
            {
                // Compression is a property of the response headers: the first request decides it.
                PrepareResponseCompression(request, context);
                await EchoMetadataAsync(context);
                headersSent = true;
            }
            ThrowIfStatusRequested(request.ResponseStatus);
            await WriteResponsesAsync(request, responseStream, context);
        }
        if (!headersSent)
        {
            await EchoMetadataAsync(context);
        }
    }

    public async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        var requests = new List<StreamingOutputCallRequest>();
        long requestedBytes = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            requestedBytes += RequestedBytes(requestStream.Current);
            EnsurePayloadSizeAllowed(requestedBytes);
            requests.Add(requestStream.Current);
        }
        foreach (var request in requests)
        {
            PrepareResponseCompression(request, context);
        }
        await EchoMetadataAsync(context);
        foreach (var request in requests)
        {
            ThrowIfStatusRequested(request.ResponseStatus);
            await WriteResponsesAsync(request, responseStream, context);
        }
    }

    /// <summary>
    /// Declared only because the binder requires every rpc of the descriptor to be implemented: the
    /// unimplemented_method case expects exactly this status.
    /// </summary>
    public Task<Empty> UnimplementedCall(Empty request, ServerCallContext context) =>
        throw new RpcException(StatusCode.Unimplemented, "UnimplementedCall is not implemented by this server.");

    private async Task WriteResponsesAsync(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        EnsureSupportedPayloadType(request.ResponseType);
        EnsurePayloadSizeAllowed(RequestedBytes(request));
        foreach (var parameters in request.ResponseParameters)
        {
            if (parameters.IntervalUs is < 0 or > MaxIntervalMicroseconds)
            {
                throw new RpcException(StatusCode.InvalidArgument, $"interval_us must be between 0 and {MaxIntervalMicroseconds}.");
            }
            EnsurePayloadSizeAllowed(parameters.Size);
        }
        foreach (var parameters in request.ResponseParameters)
        {
            if (parameters.IntervalUs > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(parameters.IntervalUs), timeProvider, context.CancellationToken);
            }
            // Compressed only when this response asks for it (the call's encoding was chosen from the request).
            responseStream.WriteOptions = new WriteOptions(NoCompress: parameters.Compressed?.Value != true);
            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(parameters.Size) }, context.CancellationToken);
        }
    }

    private static void PrepareResponseCompression(StreamingOutputCallRequest request, ServerCallContext context)
    {
        if (request.ResponseParameters.Any(parameters => parameters.Compressed?.Value == true))
        {
            context.ResponseCompressionAlgorithm = CompressionAlgorithm;
        }
    }

    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        var initial = context.RequestHeaders.Get(EchoInitialKey);
        if (initial is not null)
        {
            await context.WriteResponseHeadersAsync(new Metadata().Add(EchoInitialKey, initial.Value));
        }
        var trailing = context.RequestHeaders.Get(EchoTrailingKey);
        if (trailing is not null && context.ResponseTrailers.Get(EchoTrailingKey) is null)
        {
            context.ResponseTrailers.Add(EchoTrailingKey, trailing.ValueBytes);
        }
    }

    private static void EnsureCompressedIfExpected(BoolValue? expectCompressed, ServerCallContext context)
    {
        if (expectCompressed?.Value == true && !context.LastRequestMessageWasCompressed)
        {
            throw new RpcException(StatusCode.InvalidArgument, "Expected a compressed request message.");
        }
    }

    private static void ThrowIfStatusRequested(EchoStatus? status)
    {
        if (status is not null && status.Code != 0)
        {
            throw new RpcException((StatusCode)status.Code, status.Message);
        }
    }

    private static void EnsureSupportedPayloadType(PayloadType type)
    {
        if (type != PayloadType.Compressable)
        {
            throw new RpcException(StatusCode.InvalidArgument, $"Unsupported response_type {type}.");
        }
    }

    private static long RequestedBytes(StreamingOutputCallRequest request) =>
        request.ResponseParameters.Sum(parameters => (long)parameters.Size);

    private static void EnsurePayloadSizeAllowed(long size)
    {
        if (size is < 0 or > MaxRequestedPayloadBytes)
        {
            throw new RpcException(StatusCode.InvalidArgument, $"Requested payload size must be between 0 and {MaxRequestedPayloadBytes} bytes.");
        }
    }

    private static Payload Zeros(int size) => new()
    {
        Type = PayloadType.Compressable,
        // A fresh array the message owns: wrapping it avoids a second copy of up to 16 MiB.
        Body = UnsafeByteOperations.UnsafeWrap(new byte[size]),
    };
}
