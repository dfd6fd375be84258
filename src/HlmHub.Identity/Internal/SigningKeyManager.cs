using System.Security.Cryptography;
using System.Text.Json;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>One signing key loaded from the database.</summary>
internal sealed record LoadedSigningKey(
    string KeyId,
    string Algorithm,
    SigningCredentials Credentials,
    ECDsaSecurityKey PublicKey,
    string PublicJwk,
    DateTimeOffset ActivatesAt,
    DateTimeOffset? RetiresAt);

/// <summary>The keys in force at <see cref="LoadedAt"/>: the one that signs, and every one in the JWKS.</summary>
internal sealed record SigningKeySet(DateTimeOffset LoadedAt, LoadedSigningKey Signing, IReadOnlyList<LoadedSigningKey> Published)
{
    public IReadOnlyList<SecurityKey> ValidationKeys { get; } = Published.Select(k => (SecurityKey)k.PublicKey).ToArray();
}

/// <summary>
/// Keeps the embedded issuer's signing keys: creates the first one, announces the next one
/// <see cref="EmbeddedIssuerOptions.KeyAnnouncementLead"/> before it signs, retires the current one when the
/// next takes over and drops a retired key from the JWKS once every token it signed has expired. State lives in
/// the database so every hub instance signs with the same keys; each instance caches it for
/// <see cref="EmbeddedIssuerOptions.KeyCacheRefreshInterval"/>.
/// </summary>
internal sealed class SigningKeyManager(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<AuthOptions> options,
    TimeProvider timeProvider,
    ILogger<SigningKeyManager> logger) : ISigningKeyRotation
{
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile SigningKeySet? _current;

    // Keys already imported, reused across refreshes (guarded by _refreshLock) so that a refresh every minute
    // does not re-import every key and leave the signature-provider cache pointing at discarded objects.
    private Dictionary<string, LoadedSigningKey> _loaded = new(StringComparer.Ordinal);

    private EmbeddedIssuerOptions Embedded => options.Value.EmbeddedIssuer;

    /// <summary>A retired key stays published this long after it stops signing: the last token it signed must expire first.</summary>
    private TimeSpan RetentionAfterRetirement => options.Value.TokenLifetime + options.Value.ClockSkew;

    /// <summary>The keys in force now, from the cache when it is fresh.</summary>
    public async ValueTask<SigningKeySet> GetKeySetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        var now = timeProvider.GetUtcNow();
        if (current is not null && IsFresh(current, now))
        {
            return current;
        }
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            current = _current;
            if (current is not null && IsFresh(current, timeProvider.GetUtcNow()))
            {
                return current;
            }
            return await RefreshLockedAsync(rotateNow: false, cancellationToken);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    /// <summary>
    /// The keys in force now, read again from the database whatever the cache holds: another instance may have
    /// created a key this one has not seen yet (the resource server asks when a token names an unknown key).
    /// </summary>
    public async ValueTask<SigningKeySet> ReloadAsync(CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            return await RefreshLockedAsync(rotateNow: false, cancellationToken);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task<string> RotateNowAsync(CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            var set = await RefreshLockedAsync(rotateNow: true, cancellationToken);
            return set.Signing.KeyId;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private bool IsFresh(SigningKeySet set, DateTimeOffset now) =>
        now - set.LoadedAt < Embedded.KeyCacheRefreshInterval
        && (set.Signing.RetiresAt is null || set.Signing.RetiresAt > now);

    private async Task<SigningKeySet> RefreshLockedAsync(bool rotateNow, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var keys = await db.SigningKeys.ToListAsync(cancellationToken);

        // Private keys have no use once their tokens have all expired: delete them.
        var expired = keys.Where(k => k.ExpiresAt is { } expiresAt && expiresAt <= now).ToList();
        db.SigningKeys.RemoveRange(expired);
        keys.RemoveAll(expired.Contains);

        var active = SelectSigningKey(keys, now);
        if (rotateNow && active is not null)
        {
            Retire(active, now);
            active = null;
        }
        if (active is null)
        {
            active = CreateKey(now, now);
            db.SigningKeys.Add(active);
            keys.Add(active);
        }
        var hasSuccessor = keys.Any(k => k.ActivatesAt > now);
        if (!hasSuccessor && now >= active.ActivatesAt + Embedded.KeyRotationInterval - Embedded.KeyAnnouncementLead)
        {
            var activatesAt = Max(active.ActivatesAt + Embedded.KeyRotationInterval, now + Embedded.KeyAnnouncementLead);
            var next = CreateKey(now, activatesAt);
            db.SigningKeys.Add(next);
            keys.Add(next);
            Retire(active, activatesAt);
        }
        await db.SaveChangesAsync(cancellationToken);

        var published = keys
            .Where(k => k.CreatedAt <= now)
            .OrderBy(k => k.ActivatesAt)
            .ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Select(k => _loaded.TryGetValue(k.KeyId, out var loaded) ? loaded with { RetiresAt = k.RetiresAt } : Load(k))
            .ToList();
        _loaded = published.ToDictionary(k => k.KeyId, StringComparer.Ordinal);
        var signing = published.Single(k => k.KeyId == active.KeyId);
        var set = new SigningKeySet(now, signing, published);
        _current = set;
        return set;
    }

    private static SigningKey? SelectSigningKey(List<SigningKey> keys, DateTimeOffset now) =>
        keys.Where(k => k.ActivatesAt <= now && (k.RetiresAt is null || k.RetiresAt > now))
            .OrderByDescending(k => k.ActivatesAt)
            .ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .FirstOrDefault();

    private void Retire(SigningKey key, DateTimeOffset retiresAt)
    {
        key.RetiresAt = retiresAt;
        key.ExpiresAt = retiresAt + RetentionAfterRetirement;
    }

    private SigningKey CreateKey(DateTimeOffset now, DateTimeOffset activatesAt)
    {
        var algorithm = Embedded.SigningAlgorithm;
        using var ecdsa = ECDsa.Create(CurveFor(algorithm));
        var keyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        var key = new SigningKey
        {
            KeyId = keyId,
            Algorithm = algorithm,
            PrivateKey = ecdsa.ExportPkcs8PrivateKey(),
            PublicJwk = PublicJwkJson(ecdsa, keyId, algorithm),
            CreatedAt = now,
            ActivatesAt = activatesAt,
        };
        IdentityLog.SigningKeyCreated(logger, keyId, algorithm, activatesAt);
        return key;
    }

    private static LoadedSigningKey Load(SigningKey key)
    {
        var privateEcdsa = ECDsa.Create();
        privateEcdsa.ImportPkcs8PrivateKey(key.PrivateKey, out _);
        var privateKey = new ECDsaSecurityKey(privateEcdsa) { KeyId = key.KeyId };
        var publicKey = new ECDsaSecurityKey(ECDsa.Create(privateEcdsa.ExportParameters(includePrivateParameters: false))) { KeyId = key.KeyId };
        return new LoadedSigningKey(
            key.KeyId,
            key.Algorithm,
            new SigningCredentials(privateKey, key.Algorithm),
            publicKey,
            key.PublicJwk,
            key.ActivatesAt,
            key.RetiresAt);
    }

    internal static ECCurve CurveFor(string algorithm) => algorithm switch
    {
        SecurityAlgorithms.EcdsaSha256 => ECCurve.NamedCurves.nistP256,
        SecurityAlgorithms.EcdsaSha384 => ECCurve.NamedCurves.nistP384,
        SecurityAlgorithms.EcdsaSha512 => ECCurve.NamedCurves.nistP521,
        _ => throw new InvalidOperationException($"Auth:EmbeddedIssuer:SigningAlgorithm '{algorithm}' is not supported: use ES256, ES384 or ES512."),
    };

    internal static string PublicJwkJson(ECDsa ecdsa, string keyId, string algorithm)
    {
        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        var curve = algorithm switch
        {
            SecurityAlgorithms.EcdsaSha256 => "P-256",
            SecurityAlgorithms.EcdsaSha384 => "P-384",
            _ => "P-521",
        };
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["use"] = "sig",
            ["alg"] = algorithm,
            ["kid"] = keyId,
            ["crv"] = curve,
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        });
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
