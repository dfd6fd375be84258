namespace HlmHub.Domain;

/// <summary>Whether a household still lives at the landlord's.</summary>
public enum HouseholdStatus
{
    /// <summary>A current tenant.</summary>
    Active,

    /// <summary>Has left; kept so late redemptions and history still resolve.</summary>
    Left,
}

/// <summary>
/// A roster entry: one household of one landlord, pseudonymised. The hub keeps no names, addresses or family
/// data; the landlord's own reference never leaves the hub, partners only see the member token.
/// </summary>
public sealed class Household
{
    private Household()
    {
        LandlordId = "";
        LandlordReference = "";
        MemberToken = "";
    }

    /// <summary>The hub's id.</summary>
    public Guid Id { get; private set; }

    /// <summary>The owning landlord.</summary>
    public string LandlordId { get; private set; }

    /// <summary>The landlord's own reference (unique per landlord; never leaves the hub, never logged).</summary>
    public string LandlordReference { get; private set; }

    /// <summary>The pseudonymous token partners know the household by (see <see cref="MemberTokenGenerator"/>).</summary>
    public string MemberToken { get; private set; }

    /// <summary>Number of rooms, 1 to 7 (an insurer's premium depends on it).</summary>
    public int Rooms { get; private set; }

    /// <summary>Whether the dwelling is in a priority neighbourhood (QPV).</summary>
    public bool InQpv { get; private set; }

    /// <summary>Active or left.</summary>
    public HouseholdStatus Status { get; private set; }

    /// <summary>Incremented on every change, for delta sync of rosters.</summary>
    public long Version { get; private set; }

    /// <summary>When the entry last changed.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>
    /// When <see cref="Status"/> last changed (the household was created, left, or came back): the only change to the
    /// household itself that can change its eligibility, and what an eligibility <c>Watch</c> poll looks up. A change
    /// of rooms or QPV leaves it alone, so that it never rewrites the index a poll reads
    /// (docs/federation-and-eligibility.md, docs/storage.md).
    /// </summary>
    public DateTimeOffset StatusChangedAt { get; private set; }

    /// <summary>
    /// The landlord's own version of the record (0 when it never sent one): a roster change with an older version is
    /// stale and never applied.
    /// </summary>
    public long SourceVersion { get; private set; }

    /// <summary>
    /// The last roster session that listed this household: a second item for it in the same session is a duplicate,
    /// and a full snapshot marks as left the households whose last session is not itself.
    /// </summary>
    public Guid? LastSessionId { get; private set; }

    /// <summary>Validates and creates an active household at version 1.</summary>
    public static Household Create(
        Guid id, string landlordId, string landlordReference, string memberToken, int rooms, bool inQpv, DateTimeOffset at, long sourceVersion = 0) => new()
    {
        SourceVersion = sourceVersion >= 0 ? sourceVersion : throw DomainException.Invalid("version", "must not be negative"),
        Id = Require.NotEmpty("id", id),
        LandlordId = Require.Slug("landlordId", landlordId),
        LandlordReference = Require.Text("landlordReference", landlordReference, Limits.LandlordReferenceMaxLength),
        MemberToken = Require.Text("memberToken", memberToken, Limits.MemberTokenMaxLength),
        Rooms = Require.InRange("rooms", rooms, Limits.MinRooms, Limits.MaxRooms),
        InQpv = inQpv,
        Status = HouseholdStatus.Active,
        Version = 1,
        UpdatedAt = at,
        StatusChangedAt = at,
    };

    /// <summary>Applies a roster update; the version moves only when something changed. Returns whether it did.</summary>
    public bool Update(int rooms, bool inQpv, HouseholdStatus status, DateTimeOffset at)
    {
        Require.InRange("rooms", rooms, Limits.MinRooms, Limits.MaxRooms);
        Require.Defined("status", status);
        if (rooms == Rooms && inQpv == InQpv && status == Status)
        {
            return false;
        }

        if (status != Status)
        {
            StatusChangedAt = at;
        }

        Rooms = rooms;
        InQpv = inQpv;
        Status = status;
        Version = checked(Version + 1);
        UpdatedAt = at;
        return true;
    }

    /// <summary>Whether a roster change at <paramref name="sourceVersion"/> is older than what the hub holds.</summary>
    public bool IsStale(long sourceVersion) => sourceVersion < SourceVersion;

    /// <summary>
    /// Applies a roster change from the landlord at <paramref name="sourceVersion"/> (never older than the stored one:
    /// check <see cref="IsStale"/> first). Returns whether the household changed.
    /// </summary>
    public bool ApplyRoster(int rooms, bool inQpv, HouseholdStatus status, long sourceVersion, DateTimeOffset at)
    {
        if (IsStale(sourceVersion))
        {
            throw DomainException.Precondition("version", $"{sourceVersion} is older than the stored version {SourceVersion}");
        }

        SourceVersion = sourceVersion;
        return Update(rooms, inQpv, status, at);
    }

    /// <summary>Records that the roster session <paramref name="sessionId"/> listed this household.</summary>
    public void SeenInSession(Guid sessionId) => LastSessionId = sessionId;
}
