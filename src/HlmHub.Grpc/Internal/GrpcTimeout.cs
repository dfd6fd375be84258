using System.Globalization;

namespace HlmHub.Grpc.Internal;

/// <summary>Parses and formats the <c>grpc-timeout</c> header: 1 to 8 ASCII digits then a unit (H M S m u n).</summary>
internal static class GrpcTimeout
{
    private const int MaxDigits = 8;

    public static bool TryParse(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (value is null || value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }
        long amount = 0;
        for (var i = 0; i < value.Length - 1; i++)
        {
            var c = value[i];
            if (c < '0' || c > '9')
            {
                return false;
            }
            amount = (amount * 10) + (c - '0');
        }
        // TimeSpan ticks are 100 ns; the largest value (99,999,999 hours) overflows TimeSpan,
        // so clamp: a deadline that far away is no deadline in practice.
        const long maxTicks = long.MaxValue / 4;
        double ticks = value[^1] switch
        {
            'H' => amount * (double)TimeSpan.TicksPerHour,
            'M' => amount * (double)TimeSpan.TicksPerMinute,
            'S' => amount * (double)TimeSpan.TicksPerSecond,
            'm' => amount * (double)TimeSpan.TicksPerMillisecond,
            'u' => amount * 10.0,
            'n' => amount / 100.0,
            _ => double.NaN,
        };
        if (double.IsNaN(ticks))
        {
            return false;
        }
        timeout = TimeSpan.FromTicks(ticks >= maxTicks ? maxTicks : (long)Math.Ceiling(ticks));
        return true;
    }

    /// <summary>Formats a positive timeout with the finest unit that fits in 8 digits.</summary>
    public static string Format(TimeSpan timeout)
    {
        var ticks = Math.Max(0L, timeout.Ticks);
        const long maxValue = 99_999_999;
        // Try units from finest to coarsest; round up so a deadline is never shortened to zero.
        long nanos = ticks <= long.MaxValue / 100 ? ticks * 100 : long.MaxValue;
        if (nanos <= maxValue)
        {
            return nanos.ToString(CultureInfo.InvariantCulture) + "n";
        }
        var micros = DivideRoundUp(ticks, 10);
        if (micros <= maxValue)
        {
            return micros.ToString(CultureInfo.InvariantCulture) + "u";
        }
        var millis = DivideRoundUp(ticks, TimeSpan.TicksPerMillisecond);
        if (millis <= maxValue)
        {
            return millis.ToString(CultureInfo.InvariantCulture) + "m";
        }
        var seconds = DivideRoundUp(ticks, TimeSpan.TicksPerSecond);
        if (seconds <= maxValue)
        {
            return seconds.ToString(CultureInfo.InvariantCulture) + "S";
        }
        var minutes = DivideRoundUp(ticks, TimeSpan.TicksPerMinute);
        if (minutes <= maxValue)
        {
            return minutes.ToString(CultureInfo.InvariantCulture) + "M";
        }
        var hours = Math.Min(maxValue, DivideRoundUp(ticks, TimeSpan.TicksPerHour));
        return hours.ToString(CultureInfo.InvariantCulture) + "H";
    }

    private static long DivideRoundUp(long value, long divisor) => (value / divisor) + (value % divisor == 0 ? 0 : 1);
}
