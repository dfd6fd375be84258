using System.Threading.RateLimiting;
using HlmHub.Identity.ResourceServer;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Identity;

/// <summary>
/// The per-caller bound on call rate: one token bucket per authenticated caller (its issuer and client id), so one
/// partner's loop cannot take the hub's capacity from the others. Anonymous requests are not counted here: they
/// are refused by authorization, bounded per address on the anonymous services, or limited by the token endpoint's
/// failed-authentication limiter. Built on <see cref="PartitionedRateLimiter"/> and used as ASP.NET Core's global
/// rate limiter, after authentication.
/// </summary>
public static class CallerRateLimits
{
    /// <summary>
    /// A limiter letting each authenticated caller start <paramref name="callsPerSecond"/> calls a second, with bursts
    /// of up to <paramref name="burst"/>. A call is one request: a stream counts once, when it opens, whatever it
    /// then carries. A refused call's lease carries <see cref="MetadataName.RetryAfter"/>.
    /// </summary>
    public static PartitionedRateLimiter<HttpContext> Create(int callsPerSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(callsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = callsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            // Refused at once, never queued: a queued call would hold its HTTP/2 stream and its memory while it waits.
            QueueLimit = 0,
            // Replenished by the partitioned limiter's own heartbeat, not by a timer per caller.
            AutoReplenishment = false,
        };
        return PartitionedRateLimiter.Create<HttpContext, (string Issuer, string ClientId)>(context =>
            CallerClaimsIdentity.Find(context.User) is { } caller
                // A value tuple of the two strings the token already holds: no allocation per call.
                ? RateLimitPartition.GetTokenBucketLimiter((caller.Issuer, caller.ClientId), _ => options)
                : RateLimitPartition.GetNoLimiter<(string, string)>(default));
    }
}
