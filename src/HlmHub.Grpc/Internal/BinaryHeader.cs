namespace HlmHub.Grpc.Internal;

/// <summary>Base64 for <c>-bin</c> headers: sent unpadded, accepted padded or not (PROTOCOL-HTTP2.md).</summary>
internal static class BinaryHeader
{
    public static string Encode(byte[] value) => Convert.ToBase64String(value).TrimEnd('=');

    public static bool TryDecode(string value, out byte[] bytes)
    {
        // A comma separates several values folded into one header; binary values are decoded one by one.
        var trimmed = value.Trim();
        var padding = (4 - (trimmed.Length % 4)) % 4;
        if (padding == 3)
        {
            bytes = [];
            return false;
        }
        var padded = padding == 0 ? trimmed : trimmed + new string('=', padding);
        try
        {
            bytes = Convert.FromBase64String(padded);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
