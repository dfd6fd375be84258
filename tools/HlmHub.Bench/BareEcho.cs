using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
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

    /// <summary>The ceiling: messages that arrived together are echoed together, with one flush.</summary>
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
                Write(writer, message);
                echoed = true;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                EndCall(response, buffer.IsEmpty);
                return;
            }
            // Streaming: send what was echoed now. A unary answer goes out with the trailers instead.
            if (echoed)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }
    }

    /// <summary>
    /// Profiling only: the ceiling redone the way a gRPC stream is served, one message per read
    /// (read, cut one message, advance past it) and one flush per written message, still without
    /// protobuf. With <paramref name="tryReadFirst"/>, a message already buffered is taken with the
    /// synchronous TryRead instead of ReadAsync. Comparing the three modes shows what reading and
    /// flushing per message cost on this stack.
    /// </summary>
    public static async Task HandlePerMessageAsync(HttpContext context, bool tryReadFirst)
    {
        var response = context.Response;
        response.ContentType = "application/grpc";
        var reader = context.Request.BodyReader;
        var writer = response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        // After an incomplete message TryRead would hand back the same bytes: wait for more instead.
        var needMoreBytes = true;
        while (true)
        {
            if (needMoreBytes || !tryReadFirst || !reader.TryRead(out var result))
            {
                result = await reader.ReadAsync(cancellationToken);
            }
            var buffer = result.Buffer;
            if (TryCutMessage(ref buffer, out var message))
            {
                Write(writer, message);
                reader.AdvanceTo(buffer.Start);
                needMoreBytes = false;
                await writer.FlushAsync(cancellationToken);
                continue;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            needMoreBytes = true;
            if (result.IsCompleted)
            {
                EndCall(response, buffer.IsEmpty);
                return;
            }
        }
    }

    private static void Write(PipeWriter writer, in ReadOnlySequence<byte> message)
    {
        foreach (var segment in message)
        {
            writer.Write(segment.Span);
        }
    }

    private static void EndCall(HttpResponse response, bool allBytesEchoed) =>
        response.AppendTrailer("grpc-status", allBytesEchoed ? "0" : "13");

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
