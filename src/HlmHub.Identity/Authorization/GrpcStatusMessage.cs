using System.Text;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// The <c>grpc-message</c> header of a response the hub writes itself, outside grpc-dotnet (a refused token, a
/// caller over its rate). The gRPC spec percent-encodes only the UTF-8 bytes outside printable ASCII, and '%', and
/// clients decode no more than that: grpc-js would show a ':' sent as "%3A" as it is, so
/// <see cref="Uri.EscapeDataString(string)"/>, which escapes every reserved character, is not the spec's encoding.
/// </summary>
public static class GrpcStatusMessage
{
    /// <summary>The header value for <paramref name="message"/>.</summary>
    public static string Encode(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.All(character => character is >= ' ' and <= '~' and not '%'))
        {
            return message;
        }

        var encoded = new StringBuilder(message.Length + 16);
        foreach (var value in Encoding.UTF8.GetBytes(message))
        {
            if (value is >= 0x20 and <= 0x7E and not (byte)'%')
            {
                encoded.Append((char)value);
            }
            else
            {
                encoded.Append('%').Append(value.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }
}
