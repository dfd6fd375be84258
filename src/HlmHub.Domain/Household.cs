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

    /// <summary>Validates and creates an active household at version 1.</summary>
    public static Household Create(
        Guid id, string landlordId, string landlordReference, string memberToken, int rooms, bool inQpv, DateTimeOffset at) => new()
    {
        Id = Require.NotEmpty("id", id),
        LandlordId = Require.Slug("landlordId", landlordId),
        LandlordReference = Require.Text("landlordReference", landlordReference, Limits.LandlordReferenceMaxLength),
        MemberToken = Require.Text("memberToken", memberToken, Limits.MemberTokenMaxLength),
        Rooms = Require.InRange("rooms", rooms, Limits.MinRooms, Limits.MaxRooms),
        InQpv = inQpv,
        Status = HouseholdStatus.Active,
        Version = 1,
        UpdatedAt = at,
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

        Rooms = rooms;
        InQpv = inQpv;
        Status = status;
        Version = checked(Version + 1);
        UpdatedAt = at;
        return true;
    }
}
