using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HlmHub.Storage.Conversions;

/// <summary>
/// Stores every instant as a 64-bit count of milliseconds since the Unix epoch, UTC. EF Core's SQLite provider
/// cannot translate comparisons or ordering on <see cref="DateTimeOffset"/> columns, while an integer sorts and
/// compares the same way on every provider, so queries such as "keys expiring before now" run in the database.
/// Sub-millisecond precision and the original offset are dropped: instants read back in UTC.
/// </summary>
internal sealed class UnixMillisecondsConverter()
    : ValueConverter<DateTimeOffset, long>(
        instant => instant.ToUnixTimeMilliseconds(),
        milliseconds => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));
