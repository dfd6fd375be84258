namespace HlmHub.Domain;

/// <summary>
/// Identifiers and tokens the hub receives (event ids, offer ids, member tokens, references) are printable text: no
/// control characters and no lone UTF-16 surrogate. Besides being no one's real identifier, a NUL cannot be stored in a
/// PostgreSQL text column nor sent in a query, and a lone surrogate cannot be encoded as UTF-8 at all (Npgsql refuses
/// it), so one such value would fail every statement it reaches, with whatever else shares them.
/// </summary>
public static class PrintableText
{
    /// <summary>What <see cref="Storable"/> puts in place of a character no database can take.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>Whether <paramref name="value"/> holds no control character and no lone surrogate.</summary>
    public static bool Is(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var index = 0; index < value.Length; index++)
        {
            if (char.IsControl(value[index]) || IsLoneSurrogate(value, index))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <paramref name="value"/> as the hub stores or repeats text it did not accept (a rejected reference, a message
    /// quoting one): a NUL and a lone surrogate become U+FFFD, so every database can store it and every client decode
    /// it, and the answer is the same whatever the hub runs on. Lengths are unchanged (one UTF-16 unit for one).
    /// </summary>
    public static string Storable(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var index = 0; index < value.Length; index++)
        {
            if (value[index] == '\0' || IsLoneSurrogate(value, index))
            {
                return string.Create(value.Length, value, static (target, source) =>
                {
                    for (var at = 0; at < source.Length; at++)
                    {
                        target[at] = source[at] == '\0' || IsLoneSurrogate(source, at) ? Replacement : source[at];
                    }
                });
            }
        }

        return value;
    }

    /// <summary>
    /// <see cref="Storable"/> <paramref name="value"/>, cut to at most <paramref name="maxLength"/> UTF-16 units and
    /// then followed by <paramref name="mark"/> (an ellipsis, say) when it was longer. The cut falls between whole
    /// characters: one that would split a surrogate pair drops the pair, since its high half alone could be neither
    /// stored nor sent.
    /// </summary>
    public static string Cut(string value, int maxLength, string mark = "")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        var storable = Storable(value);
        if (storable.Length <= maxLength)
        {
            return storable;
        }

        // Storable text has no lone surrogate: a high one at the end of the kept part has its low half cut off.
        var end = maxLength > 0 && char.IsHighSurrogate(storable[maxLength - 1]) ? maxLength - 1 : maxLength;
        return string.Concat(storable.AsSpan(0, end), mark);
    }

    private static bool IsLoneSurrogate(ReadOnlySpan<char> text, int index) =>
        char.IsHighSurrogate(text[index]) ? index + 1 >= text.Length || !char.IsLowSurrogate(text[index + 1])
        : char.IsLowSurrogate(text[index]) && (index == 0 || !char.IsHighSurrogate(text[index - 1]));
}
