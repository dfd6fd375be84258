using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Client secrets: generated from 32 random bytes, stored only as a salted PBKDF2-HMAC-SHA256 hash in the
/// self-describing form <c>pbkdf2-sha256${iterations}${salt}${hash}</c> (base64url), compared in constant time.
/// </summary>
internal static class ClientSecretHasher
{
    /// <summary>
    /// PBKDF2 iterations for new hashes. The secrets are 256-bit random values, so no guessing attack is
    /// practical whatever the count; stretching only slows an attacker holding a leaked database, and each
    /// verification costs the server this much work, so it is kept well below password-grade counts.
    /// Stored hashes carry their own count, so it can be raised later.
    /// </summary>
    public const int Iterations = 10_000;

    private const string Scheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private const int SecretBytes = 32;

    /// <summary>A new random secret, base64url (43 characters).</summary>
    public static string GenerateSecret() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, Iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Scheme, Iterations.ToString(CultureInfo.InvariantCulture), Base64UrlEncoder.Encode(salt), Base64UrlEncoder.Encode(hash));
    }

    public static bool Verify(string secret, string storedHash)
    {
        var parts = storedHash.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations is < 1 or > 10_000_000)
        {
            return false;
        }
        var salt = Base64UrlEncoder.DecodeBytes(parts[2]);
        var expected = Base64UrlEncoder.DecodeBytes(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
