using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace HlmHub.Grpc.Internal;

/// <summary>The length-prefixed message framing shared by server and client.</summary>
internal static class MessageFraming
{
    /// <summary>
    /// Tries to cut one whole message off the front of <paramref name="buffer"/>. Returns false when
    /// more bytes are needed; throws <see cref="RpcException"/> for a frame that can never be valid.
    /// </summary>
    public static bool TryReadMessage(
        ref ReadOnlySequence<byte> buffer,
        int maxMessageSizeBytes,
        out bool compressed,
        out ReadOnlySequence<byte> payload)
    {
        compressed = false;
        payload = default;
        if (buffer.Length < GrpcProtocol.MessageHeaderSize)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[GrpcProtocol.MessageHeaderSize];
        buffer.Slice(0, GrpcProtocol.MessageHeaderSize).CopyTo(header);
        compressed = header[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(StatusCode.Internal, $"Invalid compressed-flag byte {header[0]} in message prefix (expected 0 or 1)."),
        };
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSizeBytes)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Received message of {length} bytes exceeds the limit of {maxMessageSizeBytes} bytes.");
        }
        if (buffer.Length < GrpcProtocol.MessageHeaderSize + length)
        {
            return false;
        }
        payload = buffer.Slice(GrpcProtocol.MessageHeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Writes prefix + message into <paramref name="writer"/> without intermediate copies.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message, int size)
    {
        var span = writer.GetSpan(GrpcProtocol.MessageHeaderSize + size);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
        message.WriteTo(span.Slice(GrpcProtocol.MessageHeaderSize, size));
        writer.Advance(GrpcProtocol.MessageHeaderSize + size);
    }

    /// <summary>Writes prefix + already compressed bytes.</summary>
    public static void WriteCompressed(IBufferWriter<byte> writer, ReadOnlySpan<byte> compressed)
    {
        var span = writer.GetSpan(GrpcProtocol.MessageHeaderSize + compressed.Length);
        span[0] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)compressed.Length);
        compressed.CopyTo(span[GrpcProtocol.MessageHeaderSize..]);
        writer.Advance(GrpcProtocol.MessageHeaderSize + compressed.Length);
    }
}
