using System.Buffers.Binary;
using Google.Protobuf;

namespace HlmHub.Bench;

/// <summary>The request bodies h2load sends, and the check of what came back.</summary>
internal static class BenchBodies
{
    /// <summary>Messages per bidirectional stream.</summary>
    public const int BidiMessagesPerStream = 100;

    /// <summary>Size of the encoded sample message, like grpc's ~100-byte SimpleRequest benchmark payload.</summary>
    public const int MessageSizeBytes = 100;

    private const int PrefixSize = 5;

    /// <summary>response_size + a 94-byte payload body: 100 bytes encoded.</summary>
    public static EchoMessage Sample()
    {
        var body = new byte[94];
        for (var index = 0; index < body.Length; index++)
        {
            body[index] = (byte)('a' + (index % 26));
        }
        var message = new EchoMessage { ResponseSize = MessageSizeBytes, Payload = new Payload { Body = ByteString.CopyFrom(body) } };
        if (message.CalculateSize() != MessageSizeBytes)
        {
            throw new InvalidOperationException($"The sample message is {message.CalculateSize()} bytes, expected {MessageSizeBytes}.");
        }
        return message;
    }

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var frame = Frame(Sample());
        File.WriteAllBytes(Path.Combine(directory, "unary.bin"), frame);
        using var bidi = File.Create(Path.Combine(directory, "bidi.bin"));
        for (var index = 0; index < BidiMessagesPerStream; index++)
        {
            bidi.Write(frame);
        }
    }

    /// <summary>True when <paramref name="file"/> holds exactly <paramref name="expectedMessages"/> uncompressed copies of the sample.</summary>
    public static bool Verify(string file, int expectedMessages)
    {
        var bytes = File.ReadAllBytes(file);
        var sample = Sample();
        var count = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < PrefixSize)
            {
                Console.Error.WriteLine($"{file}: truncated prefix at byte {offset}");
                return false;
            }
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset + 1, 4));
            if (bytes[offset] != 0 || bytes.Length - offset - PrefixSize < length)
            {
                Console.Error.WriteLine($"{file}: bad or truncated message at byte {offset}");
                return false;
            }
            var message = EchoMessage.Parser.ParseFrom(bytes.AsSpan(offset + PrefixSize, length));
            if (!message.Equals(sample))
            {
                Console.Error.WriteLine($"{file}: message {count} differs from the one sent");
                return false;
            }
            count++;
            offset += PrefixSize + length;
        }
        if (count != expectedMessages)
        {
            Console.Error.WriteLine($"{file}: {count} messages, expected {expectedMessages}");
            return false;
        }
        Console.WriteLine($"{file}: {count} messages echoed intact");
        return true;
    }

    private static byte[] Frame(EchoMessage message)
    {
        var frame = new byte[PrefixSize + message.CalculateSize()];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(frame.Length - PrefixSize));
        message.WriteTo(frame.AsSpan(PrefixSize));
        return frame;
    }
}
