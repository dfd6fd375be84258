using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using HlmHub.Contracts.V1;

namespace HlmHub.Bench.Redemptions;

/// <summary>One acknowledgement, with the event it answers (matched by position) and when that event was sent.</summary>
internal readonly record struct AckedEvent(RedemptionEvent Event, RedemptionAck Ack, long SentTimestamp, long AckedTimestamp);

/// <summary>
/// A partner's side of one StreamRedemptions call: at most <c>window</c> events sent and not yet acknowledged (the
/// hub's per-stream in-flight window); acknowledgements are matched to events by position (the contract's order
/// guarantee), checked against the event id, and handed to <c>onAck</c> on the reading task. If the call breaks
/// (the hub killed, UNAVAILABLE), <see cref="Unacknowledged"/> lists, in order, what was sent without an answer.
/// One sender at a time.
/// </summary>
internal sealed class RedemptionStream : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<RedemptionEvent, RedemptionAck> _call;
    private readonly SemaphoreSlim _window;
    private readonly ConcurrentQueue<(RedemptionEvent Event, long Sent)> _pending = new();
    private readonly Action<AckedEvent> _onAck;
    private readonly Task _reader;
    private readonly CancellationTokenSource _stop;

    public RedemptionStream(RedemptionService.RedemptionServiceClient client, string accessToken, int window, Action<AckedEvent> onAck, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _window = new SemaphoreSlim(window, window);
        _onAck = onAck;
        _call = client.StreamRedemptions(new Metadata { { "authorization", "Bearer " + accessToken } }, cancellationToken: _stop.Token);
        _reader = Task.Run(ReadAsync, CancellationToken.None);
    }

    /// <summary>The reading task: faults when the call fails (a mismatched acknowledgement included).</summary>
    public Task Completion => _reader;

    /// <summary>Events sent and not acknowledged, in the order they were sent.</summary>
    public IReadOnlyList<RedemptionEvent> Unacknowledged => [.. _pending.Select(pending => pending.Event)];

    /// <summary>Sends once the window has room, stamping the event with <paramref name="sentTimestamp"/> (default: now) for latency.</summary>
    public async Task SendAsync(RedemptionEvent redemption, long? sentTimestamp = null)
    {
        // Waiting on the window and the reader together: a broken call must not leave the sender waiting for room.
        var room = _window.WaitAsync(_stop.Token);
        if (await Task.WhenAny(room, _reader) == _reader && !room.IsCompleted)
        {
            await _reader;
            throw new InvalidOperationException("The hub ended the stream.");
        }

        await room;
        // Queued before it is written, so its acknowledgement always finds it.
        _pending.Enqueue((redemption, sentTimestamp ?? Stopwatch.GetTimestamp()));
        await _call.RequestStream.WriteAsync(redemption, _stop.Token);
    }

    /// <summary>Ends the sending side and waits for every acknowledgement.</summary>
    public async Task CompleteAsync()
    {
        await _call.RequestStream.CompleteAsync();
        await _reader;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (Exception error) when (error is RpcException or OperationCanceledException or InvalidOperationException)
        {
            // Disposed while broken or cancelled: the caller has what it needs in Unacknowledged.
        }

        _call.Dispose();
        _stop.Dispose();
        _window.Dispose();
    }

    private async Task ReadAsync()
    {
        while (await _call.ResponseStream.MoveNext(_stop.Token))
        {
            var ack = _call.ResponseStream.Current;
            var acked = Stopwatch.GetTimestamp();
            if (!_pending.TryPeek(out var first) || first.Event.EventId != ack.EventId)
            {
                throw new InvalidOperationException($"Acknowledgement for '{ack.EventId}' out of order: expected '{(_pending.IsEmpty ? "(none sent)" : first.Event.EventId)}'.");
            }

            _pending.TryDequeue(out _);
            _onAck(new AckedEvent(first.Event, ack, first.Sent, acked));
            _window.Release();
        }

        if (!_pending.IsEmpty)
        {
            throw new InvalidOperationException($"The stream ended with {_pending.Count} event(s) unacknowledged.");
        }
    }
}
