using System.Runtime.CompilerServices;

namespace HlmHub.Grpc;

/// <summary>Reads the messages of a stream one at a time.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamReader<out T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>Reads the next message; false at the end of the stream.</summary>
    Task<bool> MoveNext(CancellationToken cancellationToken);
}

/// <summary>Writes the messages of a stream. Awaiting a write is how flow control reaches the writer.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>Options for the next writes (e.g. disable compression).</summary>
    WriteOptions? WriteOptions { get; set; }

    /// <summary>Writes one message; completes when the transport accepted it (backpressure).</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken);
}

/// <summary>The response stream of a server-streaming or bidirectional call, on the server.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

/// <summary>The request stream of a client-streaming or bidirectional call, on the client.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Half-closes the request stream: no more messages will be written.</summary>
    Task CompleteAsync();
}

/// <summary>Per-message write options.</summary>
/// <param name="NoCompress">When true the message is sent uncompressed even if the call has an encoding.</param>
public sealed record WriteOptions(bool NoCompress = false);

/// <summary>Helpers over <see cref="IAsyncStreamReader{T}"/>.</summary>
public static class AsyncStreamReaderExtensions
{
    /// <summary>Enumerates every remaining message of the stream.</summary>
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(
        this IAsyncStreamReader<T> reader,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
