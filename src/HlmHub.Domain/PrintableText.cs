namespace HlmHub.Domain;

/// <summary>
/// Identifiers and tokens the hub receives (event ids, offer ids, member tokens, references) are printable text: no
/// control characters. Besides being no one's real identifier, a NUL cannot be stored in a PostgreSQL text column nor
/// sent in a query, so one such value would fail every statement it reaches, with whatever else shares them.
/// </summary>
public static class PrintableText
{
    public static bool Is(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var character in value)
        {
            if (char.IsControl(character))
            {
                return false;
            }
        }

        return true;
    }
}
