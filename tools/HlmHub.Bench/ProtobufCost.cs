using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using Google.Protobuf;

namespace HlmHub.Bench;

/// <summary>
/// What the protobuf work of one echoed message costs by itself (parse from a sequence, size,
/// serialize into a buffer writer, as the transport does), measured in-process on one thread, so
/// the benchmark can tell the transport's own cost from the message's.
/// </summary>
internal static class ProtobufCost
{
    private const int WarmupMessages = 200_000;
    private const int MeasuredMessages = 2_000_000;

    public static void Measure()
    {
        var sample = BenchBodies.Sample();
        var payload = new ReadOnlySequence<byte>(sample.ToByteArray());
        var output = new ArrayBufferWriter<byte>(1024);
        RoundTrip(payload, output, WarmupMessages);

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var stopwatch = Stopwatch.StartNew();
        RoundTrip(payload, output, MeasuredMessages);
        stopwatch.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Console.WriteLine($"protobuf parse + size + write of a {sample.CalculateSize()}-byte EchoMessage: " +
            $"{stopwatch.Elapsed.TotalNanoseconds / MeasuredMessages:F0} ns, {allocated / MeasuredMessages} B allocated per message");
    }

    private static void RoundTrip(ReadOnlySequence<byte> payload, ArrayBufferWriter<byte> output, int count)
    {
        for (var index = 0; index < count; index++)
        {
            var message = EchoMessage.Parser.ParseFrom(payload);
            var size = message.CalculateSize();
            var span = output.GetSpan(5 + size);
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
            message.WriteTo(span.Slice(5, size));
            output.ResetWrittenCount();
        }
    }
}
