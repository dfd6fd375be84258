using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using HlmHub.Domain;
using Microsoft.AspNetCore.DataProtection;

namespace HlmHub.Server.Features.Eligibility;

/// <summary>Where a Watch stream resumes: the end of the last window sent, and the club set that window covered.</summary>
internal sealed record WatchCursor(DateTimeOffset Instant, byte[] ClubSet);

/// <summary>
/// Writes and reads Watch cursors. A cursor holds the instant its update covers up to and a hash of the club set
/// the stream covered, so that a stream resumed after the partner's clubs changed is told to start over (a club
/// gained has no history in the cursor; a club lost must drop out of the list). It is protected with ASP.NET Core
/// Data Protection, whose key ring the hub already keeps in its database for every instance (the embedded issuer's
/// signing keys use it): a cursor the hub did not write, or wrote for another partner (the partner id is a
/// sub-purpose), does not unprotect, so a forged instant or club set never reaches a query. About 130 characters.
/// </summary>
internal sealed class WatchCursors(IDataProtectionProvider dataProtection)
{
    /// <summary>
    /// The Data Protection purpose of Watch cursors. v1 cursors (before this class) were unprotected text and are
    /// refused like any cursor the hub did not issue; the client starts again from a snapshot.
    /// </summary>
    internal const string ProtectionPurpose = "HlmHub.Eligibility.WatchCursor.v2";

    // 128 bits of SHA-256: the hash is never secret (it sits inside the protected payload), it only has to differ
    // when the club set does, and keeping it short keeps the cursor short.
    private const int ClubSetLength = 16;

    private const int PayloadLength = sizeof(long) + ClubSetLength;

    private readonly IDataProtector _protector = dataProtection.CreateProtector(ProtectionPurpose);

    /// <summary>
    /// The hash of a club set: SHA-256 over the sorted ids, each prefixed with its UTF-8 length, so that no two sets
    /// are written the same.
    /// </summary>
    public static byte[] ClubSetOf(IEnumerable<string> clubIds)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[sizeof(int)];
        foreach (var clubId in clubIds.Order(StringComparer.Ordinal))
        {
            var bytes = Encoding.UTF8.GetBytes(clubId);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset()[..ClubSetLength];
    }

    public string Write(string partnerId, DateTimeOffset instant, byte[] clubSet)
    {
        var payload = new byte[PayloadLength];
        BinaryPrimitives.WriteInt64BigEndian(payload, instant.ToUnixTimeMilliseconds());
        clubSet.AsSpan().CopyTo(payload.AsSpan(sizeof(long)));
        return Base64Url.EncodeToString(_protector.CreateProtector(partnerId).Protect(payload));
    }

    /// <summary>The cursor <paramref name="partnerId"/> sent, or null when it sent none (start with a snapshot).</summary>
    /// <exception cref="DomainException">INVALID_ARGUMENT: not a cursor this hub wrote for this partner.</exception>
    public WatchCursor? Read(string partnerId, string cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }

        byte[]? payload = null;
        try
        {
            payload = _protector.CreateProtector(partnerId).Unprotect(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            // Not base64url: reported below like any other cursor the hub did not issue.
        }
        catch (CryptographicException)
        {
            // Forged, altered, another partner's, or a v1 cursor: reported below.
        }

        if (payload is not { Length: PayloadLength })
        {
            throw new DomainException(DomainErrorKind.InvalidArgument, "cursor",
                "must be empty or a cursor this hub sent to this partner (one from before cursors were protected is no longer read): reconnect without a cursor for a fresh snapshot");
        }

        // No check against the clock: the instant is the hub's own. One ahead of this instance's clock (another
        // instance's skew) makes the stream look back from this clock's horizon (EligibilityService.Watch).
        var instant = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(payload));
        return new WatchCursor(instant, payload[sizeof(long)..]);
    }
}
