using System.Buffers;
using System.Buffers.Binary;
using Microsoft.AspNetCore.Http.Features;

namespace HlmHub.Bench;

/// <summary>
/// The ceiling of this stack: Kestrel's HTTP/2 with nothing of gRPC but the framing. Each
/// length-prefixed request message is copied back as it arrives (no protobuf parsing, no
/// metadata, no deadline, no routing), then <c>grpc-status: 0</c> goes out in trailers.
/// </summary>
internal static class BareEcho
{
    /// <summary>The same 4 MiB limit as our transport's default, so a bad length cannot make it buffer without bound.</summary>
    private const int MaxMessageSizeBytes = 4 * 1024 * 1024;
    private const int PrefixSize = 5;

    public static async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "application/grpc";
        var reader = context.Request.BodyReader;
        var writer = response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var echoed = false;
            while (TryCutMessage(ref buffer, out var message))
            {
                foreach (var segment in message)
                {
                    writer.Write(segment.Span);
                }
                echoed = true;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    response.AppendTrailer("grpc-status", "13");
                    return;
                }
                break;
            }
            // Streaming: send what was echoed now. A unary answer goes out with the trailers instead.
            if (echoed)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }
        response.AppendTrailer("grpc-status", "0");
    }

    private static bool TryCutMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (buffer.Length < PrefixSize)
        {
            return false;
        }
        Span<byte> prefix = stackalloc byte[PrefixSize];
        buffer.Slice(0, PrefixSize).CopyTo(prefix);
        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        if (length > MaxMessageSizeBytes)
        {
            throw new InvalidDataException($"Message of {length} bytes exceeds {MaxMessageSizeBytes} bytes.");
        }
        if (buffer.Length < PrefixSize + length)
        {
            return false;
        }
        message = buffer.Slice(0, PrefixSize + length);
        buffer = buffer.Slice(message.End);
        return true;
    }
}
