using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1;
using HlmHub.Interop.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HlmHub.Interop.Tests;

/// <summary>Runs alone: it measures the process's managed heap, which other tests' servers would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAloneCollection
{
    public const string Name = "Measured alone";
}

/// <summary>
/// A seeded random mix of good and bad raw requests to the real hub. Each request's expected status follows
/// from how it was made (same rules as <see cref="RawBadInputTests"/>; a random protobuf payload is judged by
/// Google.Protobuf itself), the hub must keep serving after every batch, log no error, and the managed heap
/// (the hub runs in this process) must come back to where it started.
/// </summary>
[Collection(MeasuredAloneCollection.Name)]
public sealed class RawFuzzTests(HubServerFixture fixture, ITestOutputHelper output) : IClassFixture<HubServerFixture>, IDisposable
{
    /// <summary>Fixed, so a failure replays: the failing request's index is in the message.</summary>
    private const int Seed = 20261122;
    private const int RequestCount = 2_000;
    private const int WarmUpCount = 200;
    private const int BatchSize = 250;
    private const int ConcurrentRequests = 8;

    /// <summary>How much the managed heap may grow over the run (after a forced full GC at both ends).</summary>
    private const long MaxHeapGrowthBytes = 32L * 1024 * 1024;

    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    private readonly RawGrpc _raw = new(fixture.Hub.Address, fixture.AdminToken);

    /// <summary>A generated request and the check its response must pass (null when it does).</summary>
    private sealed record FuzzCase(string Kind, RawRequest Request, StatusCode Expected, Func<RawResponse, string?>? CheckBody = null);

    [Fact]
    public async Task SeededRandomMix_EveryCallEndsWithItsStatus_ServerKeepsServing_HeapStaysFlat()
    {
        var random = new Random(Seed);
        var errorsBefore = fixture.Errors.Count;
        await RunBatchAsync(Enumerable.Range(0, WarmUpCount).Select(_ => Generate(random)).ToList(), firstIndex: -WarmUpCount).WaitAsync(RunTimeout);
        var heapBefore = MeasureHeap();

        for (var start = 0; start < RequestCount; start += BatchSize)
        {
            var batch = Enumerable.Range(0, Math.Min(BatchSize, RequestCount - start)).Select(_ => Generate(random)).ToList();
            await RunBatchAsync(batch, start).WaitAsync(RunTimeout);
            await RawBadInputTests.AssertServerServesAsync(_raw).WaitAsync(RawGrpc.CallTimeout);
        }

        var errors = fixture.Errors.Skip(errorsBefore).ToList();
        Assert.True(errors.Count == 0, "The server logged errors during the fuzz:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Take(5)));
        var heapAfter = MeasureHeap();
        var heapGrowth = heapAfter - heapBefore;
        output.WriteLine($"Managed heap: {heapBefore / 1024} KiB before, {heapAfter / 1024} KiB after {RequestCount} requests.");
        Assert.True(heapGrowth < MaxHeapGrowthBytes, $"The managed heap grew by {heapGrowth / 1024} KiB over {RequestCount} requests (limit {MaxHeapGrowthBytes / 1024} KiB).");
    }

    private async Task RunBatchAsync(IReadOnlyList<FuzzCase> batch, int firstIndex)
    {
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, batch.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ConcurrentRequests },
            async (offset, _) =>
            {
                var fuzzCase = batch[offset];
                var response = await _raw.SendAsync(fuzzCase.Request);
                var failure = response.GrpcStatus != fuzzCase.Expected
                    ? $"expected {fuzzCase.Expected}"
                    : fuzzCase.CheckBody?.Invoke(response);
                if (failure is not null)
                {
                    failures.Add($"#{firstIndex + offset} {fuzzCase.Kind} ({fuzzCase.Request.Path}, headers [{string.Join("; ", fuzzCase.Request.Headers)}], " +
                        $"body {Convert.ToHexString(fuzzCase.Request.Body.AsSpan(0, Math.Min(64, fuzzCase.Request.Body.Length)))}): {failure}. {response.Describe()}");
                }
            });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {batch.Count} requests ended wrongly (seed {Seed}):{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(10))}");
    }

    private static long MeasureHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static FuzzCase Generate(Random random) => random.Next(12) switch
    {
        0 or 1 => RandomEmptyCallPayload(random, compressed: false),
        2 => RandomEmptyCallPayload(random, compressed: true),
        3 => TruncatedPrefix(random),
        4 => TruncatedMessage(random),
        5 => OversizedDeclaredLength(random),
        6 => BadCompressedFlag(random),
        7 => BadTimeout(random),
        8 => UnknownEncoding(random),
        9 => BadBinaryMetadata(random),
        10 => ValidMetadata(random),
        _ => ValidClientStream(random),
    };

    /// <summary>
    /// Random bytes, or random well-formed fields, as a health check request: Google.Protobuf decides INTERNAL
    /// (unparseable), else OK for the server's overall health or NOT_FOUND for a service the hub does not know.
    /// </summary>
    private static FuzzCase RandomEmptyCallPayload(Random random, bool compressed)
    {
        var payload = random.Next(2) == 0 ? RandomBytes(random, 0, 48) : RandomFields(random);
        var expected = ParseHealthCheck(payload) switch
        {
            null => StatusCode.Unknown,
            { Service: "" } => StatusCode.OK,
            _ => StatusCode.NotFound,
        };
        return compressed
            ? new("random payload, gzip", Request(RawBadInputTests.HealthCheckPath, RawGrpc.Frame(RawGrpc.Gzip(payload), flag: 1), ("grpc-encoding", "gzip")), expected)
            : new("random payload", Request(RawBadInputTests.HealthCheckPath, RawGrpc.Frame(payload)), expected);
    }

    private static FuzzCase TruncatedPrefix(Random random) =>
        new("truncated prefix", Request(RawBadInputTests.EmptyCallPath, RandomBytes(random, 1, RawGrpc.PrefixSize - 1)), StatusCode.Internal);

    private static FuzzCase TruncatedMessage(Random random)
    {
        var declared = random.Next(1, 200);
        var body = RawGrpc.Frame(RandomBytes(random, 0, declared - 1), declaredLength: (uint)declared);
        return new("truncated message", Request(PickPath(random), body), StatusCode.Internal);
    }

    private static FuzzCase OversizedDeclaredLength(Random random)
    {
        var declared = (uint)random.NextInt64(RawBadInputTests.MaxMessageSizeBytes + 1L, uint.MaxValue + 1L);
        var body = RawGrpc.Frame(RandomBytes(random, 0, 16), declaredLength: declared);
        var path = PickPath(random);
        // grpc-dotnet reads 2^31 and above as negative lengths and refuses them as undecodable: UNKNOWN when it
        // reads a unary request itself, INTERNAL when the handler reads a stream (ErrorMappingInterceptor).
        var expected = declared <= int.MaxValue ? StatusCode.ResourceExhausted
            : path == RawBadInputTests.ReflectionPath ? StatusCode.Internal
            : StatusCode.Unknown;
        return new("declared length over 4 MiB", Request(path, body), expected);
    }

    private static FuzzCase BadCompressedFlag(Random random)
    {
        var payload = RandomBytes(random, 0, 32);
        return random.Next(3) switch
        {
            0 => new("flag byte over 1", Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame(payload, flag: (byte)random.Next(2, 256))), StatusCode.Unknown),
            1 => new("compressed flag, no grpc-encoding", Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame(payload, flag: 1)), StatusCode.Internal),
            // Not gzip: a gzip stream starts with 0x1f 0x8b. At least 2 bytes, so the magic number is
            // wrong rather than cut short (a cut-short stream is covered by RawBadInputTests.TruncatedGzipMessage_EndsWithInternal).
            _ => new("compressed flag, not gzip data", Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame([0x00, (byte)random.Next(256), .. payload], flag: 1), ("grpc-encoding", "gzip")), StatusCode.Unknown),
        };
    }

    private static FuzzCase BadTimeout(Random random)
    {
        const string units = "HMSmun";
        const string notUnits = "hsxyzDK%~";
        var value = random.Next(4) switch
        {
            0 => RandomDigits(random, 9, 12) + units[random.Next(units.Length)],
            1 => RandomDigits(random, 1, 8) + notUnits[random.Next(notUnits.Length)],
            2 => RandomString(random, "abcdefghijklmnopqrstuvwxyzHMS", 1, 6),
            _ => RandomDigits(random, 1, 6) + units[random.Next(units.Length)] + RandomString(random, "0123456789xS", 1, 1),
        };
        // grpc-dotnet ignores a grpc-timeout it cannot read: the call runs without a deadline.
        return new("malformed grpc-timeout", Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame([]), ("grpc-timeout", value)), StatusCode.OK);
    }

    private static FuzzCase UnknownEncoding(Random random)
    {
        string name;
        do
        {
            name = RandomString(random, "abcdefghijklmnopqrstuvwxyz", 3, 8);
        }
        while (name is "gzip" or "identity");
        return new("unknown grpc-encoding", Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame(RawGrpc.Gzip([]), flag: 1), ("grpc-encoding", name)), StatusCode.Unimplemented,
            response => response.Headers.TryGetValues("grpc-accept-encoding", out var accepted) && accepted.Single().Contains("gzip", StringComparison.Ordinal)
                ? null
                : "no grpc-accept-encoding listing gzip");
    }

    private static FuzzCase BadBinaryMetadata(Random random)
    {
        var characters = Convert.ToBase64String(RandomBytes(random, 3, 30)).TrimEnd('=').ToCharArray();
        characters[random.Next(characters.Length)] = "!*#.@$%&"[random.Next(8)];
        // -bin headers are decoded only when read, and the hub reads none.
        return new("-bin header not base64", Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame([]), ("x-fuzz-bin", new string(characters))), StatusCode.OK);
    }

    /// <summary>Valid ASCII and binary metadata (padded or not): the call succeeds.</summary>
    private static FuzzCase ValidMetadata(Random random)
    {
        var encoded = Convert.ToBase64String(RandomBytes(random, 1, 40));
        if (random.Next(2) == 0)
        {
            encoded = encoded.TrimEnd('=');
        }
        var request = Request(RawBadInputTests.EmptyCallPath, RawGrpc.Frame([]),
            ("x-fuzz-bin", encoded),
            ("x-fuzz-ascii", RandomString(random, "abcdefghijklmnopqrstuvwxyz0123456789-_.~ ", 1, 40).Trim() + "v"));
        return new("valid metadata", request, StatusCode.OK);
    }

    /// <summary>
    /// A valid reflection stream of 0-5 list_services requests, some gzip-compressed: OK with one answer per
    /// request, each listing the Admin API.
    /// </summary>
    private static FuzzCase ValidClientStream(Random random)
    {
        var body = new List<byte>();
        var count = random.Next(6);
        var useGzip = random.Next(2) == 0;
        var anyCompressed = false;
        for (var index = 0; index < count; index++)
        {
            var message = new ServerReflectionRequest { Host = RandomString(random, "abcdefghij", 0, 8), ListServices = "" }.ToByteArray();
            var compressed = useGzip && random.Next(2) == 0;
            body.AddRange(compressed ? RawGrpc.Frame(RawGrpc.Gzip(message), flag: 1) : RawGrpc.Frame(message));
            anyCompressed |= compressed;
        }
        var request = useGzip
            ? Request(RawBadInputTests.ReflectionPath, [.. body], ("grpc-encoding", "gzip"))
            : Request(RawBadInputTests.ReflectionPath, [.. body]);
        return new(anyCompressed ? "valid reflection stream, partly gzip" : "valid reflection stream", request, StatusCode.OK, response =>
        {
            var messages = response.Messages();
            if (messages.Count != count)
            {
                return $"expected {count} answers, got {messages.Count}";
            }
            foreach (var (flag, payload) in messages)
            {
                var answer = ServerReflectionResponse.Parser.ParseFrom(flag == 1 ? RawGrpc.Gunzip(payload) : payload);
                if (!answer.ListServicesResponse.Service.Any(service => service.Name == "hlmhub.v1.AdminService"))
                {
                    return "a list_services answer does not list hlmhub.v1.AdminService";
                }
            }
            return null;
        });
    }

    private static HealthCheckRequest? ParseHealthCheck(byte[] payload)
    {
        try
        {
            return HealthCheckRequest.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>1-4 protobuf fields of random numbers and wire types, well-formed most of the time.</summary>
    private static byte[] RandomFields(Random random)
    {
        var output = new List<byte>();
        for (var count = random.Next(1, 5); count > 0; count--)
        {
            var wireType = new[] { 0, 1, 2, 5 }[random.Next(4)];
            AppendVarint(output, ((ulong)random.Next(1, 1 << 20) << 3) | (uint)wireType);
            switch (wireType)
            {
                case 0:
                    AppendVarint(output, (ulong)random.NextInt64());
                    break;
                case 1:
                    output.AddRange(RandomBytes(random, 8, 8));
                    break;
                case 2:
                    var length = random.Next(0, 20);
                    AppendVarint(output, (ulong)length);
                    output.AddRange(RandomBytes(random, length, length));
                    break;
                default:
                    output.AddRange(RandomBytes(random, 4, 4));
                    break;
            }
        }
        return [.. output];
    }

    private static void AppendVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }

    private static string PickPath(Random random) =>
        new[] { RawBadInputTests.EmptyCallPath, RawBadInputTests.UnaryCallPath, RawBadInputTests.HealthCheckPath, RawBadInputTests.ReflectionPath }[random.Next(4)];

    private static byte[] RandomBytes(Random random, int minLength, int maxLength)
    {
        var bytes = new byte[random.Next(minLength, maxLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomDigits(Random random, int minLength, int maxLength) => RandomString(random, "0123456789", minLength, maxLength);

    private static string RandomString(Random random, string alphabet, int minLength, int maxLength) =>
        new([.. Enumerable.Range(0, random.Next(minLength, maxLength + 1)).Select(_ => alphabet[random.Next(alphabet.Length)])]);

    private static RawRequest Request(string path, byte[] body, params (string Name, string Value)[] headers) => new(path, body, RawGrpc.Headers(headers));

    public void Dispose() => _raw.Dispose();
}
