using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using HlmHub.Grpc.Internal;

namespace HlmHub.Grpc.Client.Internal;

/// <summary>
/// Reads Length-Prefixed-Messages from a response body into one pooled buffer that grows only as far
/// as the largest message allowed, and parses each straight from that buffer.
/// </summary>
internal sealed class ResponseMessageReader(Stream body, int maxReceiveMessageSizeBytes) : IDisposable
{
    /// <summary>Initial read buffer: big enough for typical messages so most calls never grow it.</summary>
    private const int InitialBufferSizeBytes = 4096;

    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSizeBytes);
    private int _start;
    private int _end;

    /// <summary>The next message, or null at the end of the body.</summary>
    /// <exception cref="RpcException">The body is malformed, too large or cannot be decompressed.</exception>
    public async ValueTask<T?> ReadAsync<T>(MessageParser<T> parser, string? encoding, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        if (!await FillAsync(GrpcProtocol.MessageHeaderSize, cancellationToken).ConfigureAwait(false))
        {
            if (_end == _start)
            {
                return default;
            }
            throw new RpcException(StatusCode.Internal, "The response ended in the middle of a message prefix.");
        }
        var buffer = _buffer!;
        var compressedFlag = buffer[_start];
        var length = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(_start + 1));
        if (compressedFlag > 1)
        {
            throw new RpcException(StatusCode.Internal, $"Invalid compressed flag {compressedFlag} in a response message.");
        }
        if (length > (uint)maxReceiveMessageSizeBytes)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Received message exceeds the maximum configured message size ({length} > {maxReceiveMessageSizeBytes} bytes).");
        }
        var frameLength = GrpcProtocol.MessageHeaderSize + (int)length;
        if (!await FillAsync(frameLength, cancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(StatusCode.Internal, "The response ended in the middle of a message.");
        }
        buffer = _buffer!;
        var payload = new ReadOnlyMemory<byte>(buffer, _start + GrpcProtocol.MessageHeaderSize, (int)length);
        _start += frameLength;
        if (_start == _end)
        {
            _start = _end = 0;
        }
        return compressedFlag == 1 ? ParseCompressed(parser, encoding, payload) : Parse(parser, payload.Span);
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private T ParseCompressed<T>(MessageParser<T> parser, string? encoding, ReadOnlyMemory<byte> payload)
        where T : IMessage<T>
    {
        if (encoding is null || string.Equals(encoding, GrpcProtocol.IdentityEncoding, StringComparison.Ordinal))
        {
            throw new RpcException(StatusCode.Internal, "A response message is marked compressed but the response has no grpc-encoding.");
        }
        if (!MessageCompression.IsSupported(encoding))
        {
            throw new RpcException(StatusCode.Internal, $"The response uses the unsupported encoding '{encoding}'.");
        }
        byte[]? inflated;
        try
        {
            inflated = MessageCompression.Decompress(encoding, new ReadOnlySequence<byte>(payload), maxReceiveMessageSizeBytes);
        }
        catch (InvalidDataException)
        {
            throw new RpcException(StatusCode.Internal, "A compressed response message is not valid gzip.");
        }
        if (inflated is null)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Received message exceeds the maximum configured message size once decompressed (> {maxReceiveMessageSizeBytes} bytes).");
        }
        return Parse(parser, inflated);
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySpan<byte> payload)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(StatusCode.Internal, "Failed to deserialize the response message.");
        }
    }

    /// <summary>Reads until <paramref name="count"/> bytes are buffered; false if the body ends first.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(ResponseMessageReader));
            if (buffer.Length - _start < count)
            {
                // Move the partial frame to the front, into a bigger buffer if it cannot fit.
                var target = count > buffer.Length ? ArrayPool<byte>.Shared.Rent(count) : buffer;
                buffer.AsSpan(_start, _end - _start).CopyTo(target);
                _end -= _start;
                _start = 0;
                if (!ReferenceEquals(target, buffer))
                {
                    _buffer = target;
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = target;
                }
            }
            var read = await body.ReadAsync(buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }
            _end += read;
        }
        return true;
    }
}
