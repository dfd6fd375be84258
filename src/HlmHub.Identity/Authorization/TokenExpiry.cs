using Grpc.Core;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// When the token a streaming call was authorized with stops being valid (its <c>exp</c> plus <c>Auth:ClockSkew</c>).
/// A token is checked when a call starts; a stream can outlive it by hours, so the streams of the call are wrapped
/// (<see cref="ExpiringStreamReader{T}"/>, <see cref="ExpiringStreamWriter{T}"/>): once the token has expired, reading
/// or writing ends the call with UNAUTHENTICATED. A leaked token then keeps an open stream no longer than it could
/// make new calls (at most <c>Auth:TokenLifetime</c>); a revoked token's streams (its client disabled, or its secret
/// rotated after the token was issued) end sooner, when the instance learns it (<see cref="EndBecauseRevoked"/>).
/// </summary>
internal sealed class TokenExpiry : IDisposable
{
    /// <summary>The longest a timer can wait (about 49 days); a token valid longer is checked at each read or write.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(49);

    private readonly TimeProvider _timeProvider;
    private readonly DateTimeOffset _expiresAt;
    private readonly CancellationTokenSource _expired;
    private readonly bool _timerCoversExpiry;
    private volatile string? _revoked;
    private IDisposable? _registration;

    public TokenExpiry(DateTimeOffset expiresAt, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _expiresAt = expiresAt;
        var remaining = expiresAt - timeProvider.GetUtcNow();
        _timerCoversExpiry = remaining > TimeSpan.Zero && remaining <= LongestTimer;
        _expired = new CancellationTokenSource(
            remaining <= TimeSpan.Zero ? TimeSpan.Zero : _timerCoversExpiry ? remaining : LongestTimer, timeProvider);
    }

    /// <summary>Cancelled when the token expires.</summary>
    public CancellationToken Token => _expired.Token;

    // Read at every message of a stream: the timer answers, and the clock only for a token it cannot wait for.
    public bool HasExpired => _expired.IsCancellationRequested || (!_timerCoversExpiry && _timeProvider.GetUtcNow() >= _expiresAt);

    public void ThrowIfExpired()
    {
        if (HasExpired)
        {
            throw Error();
        }
    }

    /// <summary>
    /// Ends the call as an expiry would, because its token has been revoked (<see cref="ResourceServer.RevokedClientTokens"/>,
    /// <paramref name="reason"/> one of its refusals): a token that would be refused on a new call stops serving now
    /// rather than at its <c>exp</c>.
    /// </summary>
    public void EndBecauseRevoked(string reason)
    {
        _revoked ??= reason;
        try
        {
            _expired.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call has ended already.
        }
        catch (AggregateException)
        {
            // A callback the call registered failed: the call ends all the same, at its next read or write, and the
            // caller (disabling a client, rotating its secret, or the refresh) goes on to the client's other streams.
        }
    }

    /// <summary>Why the call ends: its token expired, or it was revoked (its client disabled, or its secret rotated).</summary>
    public RpcException Error() => _revoked switch
    {
        null => new(new Status(StatusCode.Unauthenticated,
            "The access token expired during this call: get a new token and call again (resend what was not acknowledged).")),
        ResourceServer.RevokedClientTokens.ClientDisabled => new(new Status(StatusCode.Unauthenticated,
            "The client was disabled during this call: its tokens are no longer accepted.")),
        _ => new(new Status(StatusCode.Unauthenticated,
            "The client's secret was rotated during this call: tokens issued before are no longer accepted; get a new token with the new secret and call again (resend what was not acknowledged).")),
    };

    /// <summary>Disposes <paramref name="registration"/> (a <see cref="ResourceServer.RevokedClientTokens"/> tracking) with this expiry.</summary>
    public void DisposeWithThis(IDisposable registration) => _registration = registration;

    public void Dispose()
    {
        _registration?.Dispose();
        _expired.Dispose();
    }
}

/// <summary>A request stream that ends the call with UNAUTHENTICATED once the caller's token has expired (<see cref="TokenExpiry"/>).</summary>
internal sealed class ExpiringStreamReader<T>(IAsyncStreamReader<T> inner, TokenExpiry expiry) : IAsyncStreamReader<T>, IDisposable
{
    // A reader waiting for the client's next message stops waiting when the token expires: the handler's token is
    // linked with the expiry's, once for as long as the handler passes the same token (it does, message after message).
    private CancellationToken _linkedWith;
    private CancellationTokenSource? _linked;

    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        expiry.ThrowIfExpired();
        if (_linked is null || _linkedWith != cancellationToken)
        {
            _linked?.Dispose();
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
            _linkedWith = cancellationToken;
        }

        try
        {
            return await inner.MoveNext(_linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && expiry.Token.IsCancellationRequested)
        {
            throw expiry.Error();
        }
    }

    public void Dispose() => _linked?.Dispose();
}

/// <summary>A response stream that refuses to write once the caller's token has expired (<see cref="TokenExpiry"/>).</summary>
internal sealed class ExpiringStreamWriter<T>(IServerStreamWriter<T> inner, TokenExpiry expiry) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    public Task WriteAsync(T message)
    {
        expiry.ThrowIfExpired();
        return inner.WriteAsync(message);
    }

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        expiry.ThrowIfExpired();
        return inner.WriteAsync(message, cancellationToken);
    }
}
