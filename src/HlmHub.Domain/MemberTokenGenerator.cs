using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace HlmHub.Domain;

/// <summary>
/// Derives a household's member token: HMAC-SHA256, under the hub's secret key, of the landlord id and the
/// landlord's own reference. Without the key the token cannot be reversed to the reference, nor linked to the same
/// person's token at another landlord; with it the hub recomputes the same token every time, so rosters can be
/// re-sent without a lookup table.
/// </summary>
public sealed class MemberTokenGenerator
{
    /// <summary>The smallest key accepted: 32 bytes, the HMAC-SHA256 block strength.</summary>
    public const int MinimumKeyLength = 32;

    /// <summary>Every token starts with this prefix, so a token is recognisable in logs and support tickets.</summary>
    public const string Prefix = "mt_";

    private readonly byte[] _key;

    /// <summary>Creates the generator over a secret key of at least <see cref="MinimumKeyLength"/> bytes.</summary>
    public MemberTokenGenerator(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumKeyLength)
        {
            throw new ArgumentException($"The member-token key must be at least {MinimumKeyLength} bytes.", nameof(key));
        }

        _key = key.ToArray();
    }

    /// <summary>The token of the household <paramref name="landlordReference"/> of landlord <paramref name="landlordId"/>.</summary>
    public string Compute(string landlordId, string landlordReference)
    {
        Require.Slug("landlordId", landlordId);
        Require.Text("landlordReference", landlordReference, Limits.LandlordReferenceMaxLength);

        // Each field is length-prefixed so ("ab", "c") and ("a", "bc") never hash the same input.
        var landlordBytes = Encoding.UTF8.GetBytes(landlordId);
        var referenceBytes = Encoding.UTF8.GetBytes(landlordReference);
        var message = new byte[4 + landlordBytes.Length + 4 + referenceBytes.Length];
        BinaryPrimitives.WriteInt32BigEndian(message, landlordBytes.Length);
        landlordBytes.CopyTo(message, 4);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4 + landlordBytes.Length), referenceBytes.Length);
        referenceBytes.CopyTo(message, 8 + landlordBytes.Length);

        var mac = HMACSHA256.HashData(_key, message);
        return Prefix + Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
