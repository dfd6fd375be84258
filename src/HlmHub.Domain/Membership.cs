namespace HlmHub.Domain;

/// <summary>A household's opt-in to a club; the landlord collects the consent and sends it with the roster.</summary>
public sealed class Membership
{
    private Membership()
    {
        ClubId = "";
    }

    /// <summary>The club.</summary>
    public string ClubId { get; private set; }

    /// <summary>The household.</summary>
    public Guid HouseholdId { get; private set; }

    /// <summary>When the household consented.</summary>
    public DateTimeOffset JoinedAt { get; private set; }

    /// <summary>When the household left the club, if it did.</summary>
    public DateTimeOffset? LeftAt { get; private set; }

    /// <summary>Whether the membership is current.</summary>
    public bool IsActive => LeftAt is null;

    /// <summary>
    /// Creates a membership. The household's landlord must be the club's host, or federated into the club by an
    /// active agreement (<paramref name="landlordFederated"/>).
    /// </summary>
    public static Membership Join(Club club, Household household, bool landlordFederated, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(club);
        ArgumentNullException.ThrowIfNull(household);
        if (household.LandlordId != club.HostLandlordId && !landlordFederated)
        {
            throw DomainException.Precondition(
                "clubId", "the household's landlord must host the club or be federated into it by an active agreement");
        }

        if (household.Status != HouseholdStatus.Active)
        {
            throw DomainException.Precondition("householdId", "a household that has left cannot join a club");
        }

        return new Membership { ClubId = club.Id, HouseholdId = household.Id, JoinedAt = at };
    }

    /// <summary>Ends the membership.</summary>
    public void Leave(DateTimeOffset at)
    {
        if (LeftAt is not null)
        {
            throw DomainException.Precondition("membership", "the household has already left the club");
        }

        LeftAt = at;
    }

    /// <summary>Joins again after leaving.</summary>
    public void Rejoin(DateTimeOffset at)
    {
        JoinedAt = at;
        LeftAt = null;
    }
}
