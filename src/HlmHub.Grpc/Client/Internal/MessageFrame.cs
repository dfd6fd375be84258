using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using HlmHub.Grpc.Internal;

namespace HlmHub.Grpc.Client.Internal;

/// <summary>Serializes one request message as a Length-Prefixed-Message (PROTOCOL-HTTP2.md).</summary>
internal static class MessageFrame
{
    /// <summary>
    /// Writes the 5-byte prefix and the (possibly compressed) message into a buffer from
    /// <see cref="ArrayPool{T}.Shared"/>; the caller returns it once the bytes are written.
    /// </summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the message exceeds <paramref name="maxSizeBytes"/>.</exception>
    public static byte[] Rent(IMessage message, string? encoding, int maxSizeBytes, out int frameLength)
    {
        var size = CheckSize(message, maxSizeBytes);
        if (encoding is not null)
        {
            var compressed = Compress(message, size, encoding);
            frameLength = GrpcProtocol.MessageHeaderSize + compressed.Length;
            var compressedFrame = ArrayPool<byte>.Shared.Rent(frameLength);
            WritePrefix(compressedFrame, compressed: true, compressed.Length);
            compressed.CopyTo(compressedFrame.AsSpan(GrpcProtocol.MessageHeaderSize));
            return compressedFrame;
        }
        frameLength = GrpcProtocol.MessageHeaderSize + size;
        var frame = ArrayPool<byte>.Shared.Rent(frameLength);
        WritePrefix(frame, compressed: false, size);
        message.WriteTo(frame.AsSpan(GrpcProtocol.MessageHeaderSize, size));
        return frame;
    }

    /// <summary>The frame in an array of exactly its length, for a request sent as one body.</summary>
    public static byte[] CreateExact(IMessage message, string? encoding, int maxSizeBytes)
    {
        var size = CheckSize(message, maxSizeBytes);
        if (encoding is not null)
        {
            var compressed = Compress(message, size, encoding);
            var compressedFrame = new byte[GrpcProtocol.MessageHeaderSize + compressed.Length];
            WritePrefix(compressedFrame, compressed: true, compressed.Length);
            compressed.CopyTo(compressedFrame.AsSpan(GrpcProtocol.MessageHeaderSize));
            return compressedFrame;
        }
        var frame = new byte[GrpcProtocol.MessageHeaderSize + size];
        WritePrefix(frame, compressed: false, size);
        message.WriteTo(frame.AsSpan(GrpcProtocol.MessageHeaderSize));
        return frame;
    }

    private static int CheckSize(IMessage message, int maxSizeBytes)
    {
        var size = message.CalculateSize();
        if (size > maxSizeBytes)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Sending message exceeds the maximum configured message size ({size} > {maxSizeBytes} bytes).");
        }
        return size;
    }

    private static byte[] Compress(IMessage message, int size, string encoding)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var payload = buffer.AsSpan(0, size);
            message.WriteTo(payload);
            return MessageCompression.Compress(encoding, payload);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WritePrefix(Span<byte> frame, bool compressed, int length)
    {
        frame[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(frame[1..], (uint)length);
    }
}
