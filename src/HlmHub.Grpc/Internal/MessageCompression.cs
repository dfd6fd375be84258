using System.Buffers;
using System.IO.Compression;

namespace HlmHub.Grpc.Internal;

/// <summary>
/// The message encodings this transport speaks (gzip; identity means none). Decompression is
/// bounded: a small compressed message cannot inflate past the receive limit (zip bomb).
/// </summary>
internal static class MessageCompression
{
    /// <summary>What we put in <c>grpc-accept-encoding</c>.</summary>
    public const string AcceptEncodingValue = "identity,gzip";

    public static bool IsSupported(string encoding) =>
        string.Equals(encoding, GrpcProtocol.GzipEncoding, StringComparison.Ordinal)
        || string.Equals(encoding, GrpcProtocol.IdentityEncoding, StringComparison.Ordinal);

    /// <summary>True when the peer's <c>grpc-accept-encoding</c> list names <paramref name="encoding"/>.</summary>
    public static bool PeerAccepts(string? acceptEncodingHeader, string encoding)
    {
        if (string.IsNullOrEmpty(acceptEncodingHeader))
        {
            return false;
        }
        foreach (var range in acceptEncodingHeader.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(range, encoding, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// gzip of zero bytes: header, an empty final deflate block, CRC32 0 and size 0. GZipStream writes
    /// nothing at all for an empty input, which peers rightly refuse as invalid gzip.
    /// </summary>
    private static readonly byte[] EmptyGzip = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>gzip header (10) + smallest deflate stream (2) + trailer (8).</summary>
    private const int MinimumGzipLength = 20;

    public static byte[] Compress(string encoding, ReadOnlySpan<byte> payload)
    {
        EnsureGzip(encoding);
        if (payload.IsEmpty)
        {
            return (byte[])EmptyGzip.Clone();
        }
        using var output = new MemoryStream(payload.Length / 2 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(payload);
        }
        return output.ToArray();
    }

    /// <summary>Inflates <paramref name="payload"/>; null when the result would exceed <paramref name="maxSizeBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The payload is not valid gzip.</exception>
    public static byte[]? Decompress(string encoding, in ReadOnlySequence<byte> payload, int maxSizeBytes)
    {
        EnsureGzip(encoding);
        // GZipStream quietly returns what it could inflate from truncated input; the trailer check below
        // (CRC32 and length of the inflated bytes) is what refuses a cut or corrupted message.
        if (payload.Length < MinimumGzipLength)
        {
            throw new InvalidDataException("gzip data is shorter than a gzip header and trailer.");
        }
        Span<byte> trailer = stackalloc byte[8];
        payload.Slice(payload.Length - 8).CopyTo(trailer);
        var expectedCrc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var expectedLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        using var input = new ReadOnlySequenceStream(payload);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > maxSizeBytes)
                {
                    return null;
                }
                output.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var inflated = output.ToArray();
        if ((uint)inflated.Length != expectedLength || Crc32.Compute(inflated) != expectedCrc)
        {
            throw new InvalidDataException("gzip trailer does not match the inflated data: the message is truncated or corrupted.");
        }
        return inflated;
    }

    private static void EnsureGzip(string encoding)
    {
        if (!string.Equals(encoding, GrpcProtocol.GzipEncoding, StringComparison.Ordinal))
        {
            throw new NotSupportedException($"Message encoding '{encoding}' is not supported.");
        }
    }

    /// <summary>A read-only stream over a <see cref="ReadOnlySequence{T}"/>, so inflating needs no copy of the input.</summary>
    private sealed class ReadOnlySequenceStream(ReadOnlySequence<byte> sequence) : Stream
    {
        private ReadOnlySequence<byte> _remaining = sequence;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, _remaining.Length);
            _remaining.Slice(0, count).CopyTo(buffer);
            _remaining = _remaining.Slice(count);
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>CRC-32 (IEEE 802.3, as gzip uses) for checking gzip trailers; System.IO.Hashing is not in the framework.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var value = i;
            for (var bit = 0; bit < 8; bit++)
            {
                value = (value & 1) != 0 ? 0xEDB88320u ^ (value >> 1) : value >> 1;
            }
            table[i] = value;
        }
        return table;
    }
}
