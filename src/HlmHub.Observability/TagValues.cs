using System.Collections.Concurrent;
using System.Text;

namespace HlmHub.Observability;

/// <summary>
/// Tag values from enums: the member's name in snake_case (<c>CapExceeded</c> becomes <c>cap_exceeded</c>, as
/// OpenTelemetry's conventions write values), computed once per member. A value outside the enum's members (a
/// cast integer) becomes <c>other</c>, so the set of values stays the enum's.
/// </summary>
internal static class TagValues
{
    private static readonly ConcurrentDictionary<Enum, string> Names = new();

    public static string Of(Enum value) => Names.GetOrAdd(value, static item =>
        Enum.IsDefined(item.GetType(), item) ? ToSnakeCase(item.ToString()) : HubMetrics.Other);

    internal static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var index = 0; index < name.Length; index++)
        {
            var character = name[index];
            if (char.IsAsciiLetterUpper(character))
            {
                if (index > 0)
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(character));
            }
            else
            {
                builder.Append(character);
            }
        }

        return builder.ToString();
    }
}
