namespace HlmHub.Domain;

/// <summary>Where a federation agreement is in its life.</summary>
public enum FederationStatus
{
    /// <summary>One side proposed; waiting for the other's consent.</summary>
    Proposed,

    /// <summary>Both sides consented: the landlord's households may join the club.</summary>
    Active,

    /// <summary>Withdrawn before acceptance, or ended by either side.</summary>
    Ended,
}

/// <summary>
/// A club admits a neighbouring landlord's households. Both sides consent: one proposes, the other accepts;
/// either side may end it. The two parties are the club's host landlord and the neighbouring landlord.
/// </summary>
public sealed class FederationAgreement
{
    private FederationAgreement()
    {
        ClubId = "";
        LandlordId = "";
        ProposedByLandlordId = "";
    }

    /// <summary>The id.</summary>
    public Guid Id { get; private set; }

    /// <summary>The club.</summary>
    public string ClubId { get; private set; }

    /// <summary>The neighbouring landlord whose households join.</summary>
    public string LandlordId { get; private set; }

    /// <summary>The current state.</summary>
    public FederationStatus Status { get; private set; }

    /// <summary>The party that proposed (the host landlord or the neighbouring landlord).</summary>
    public string ProposedByLandlordId { get; private set; }

    /// <summary>When it was proposed.</summary>
    public DateTimeOffset ProposedAt { get; private set; }

    /// <summary>When the other party accepted.</summary>
    public DateTimeOffset? AcceptedAt { get; private set; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>Proposes an agreement between <paramref name="club"/> and <paramref name="landlordId"/>.</summary>
    public static FederationAgreement Propose(Guid id, Club club, string landlordId, string proposedByLandlordId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(club);
        Require.Slug("landlordId", landlordId);
        Require.Slug("proposedByLandlordId", proposedByLandlordId);
        if (landlordId == club.HostLandlordId)
        {
            throw DomainException.Invalid("landlordId", "must not be the club's host landlord, whose households belong already");
        }

        if (proposedByLandlordId != club.HostLandlordId && proposedByLandlordId != landlordId)
        {
            throw DomainException.Invalid("proposedByLandlordId", "must be the club's host landlord or the neighbouring landlord");
        }

        return new FederationAgreement
        {
            Id = Require.NotEmpty("id", id),
            ClubId = club.Id,
            LandlordId = landlordId,
            Status = FederationStatus.Proposed,
            ProposedByLandlordId = proposedByLandlordId,
            ProposedAt = at,
        };
    }

    /// <summary>The other party consents. The proposer cannot accept its own proposal.</summary>
    public void Accept(Club club, string acceptedByLandlordId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(club);
        if (Status != FederationStatus.Proposed)
        {
            throw DomainException.Precondition("status", $"only a proposed agreement can be accepted (it is {Status})");
        }

        var otherParty = ProposedByLandlordId == LandlordId ? club.HostLandlordId : LandlordId;
        if (acceptedByLandlordId != otherParty)
        {
            throw DomainException.Precondition("acceptedByLandlordId", "must be the party that did not propose the agreement");
        }

        Status = FederationStatus.Active;
        AcceptedAt = at;
    }

    /// <summary>Either party ends the agreement (or withdraws a proposal).</summary>
    public void End(Club club, string endedByLandlordId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(club);
        if (Status == FederationStatus.Ended)
        {
            throw DomainException.Precondition("status", "the agreement has already ended");
        }

        if (endedByLandlordId != club.HostLandlordId && endedByLandlordId != LandlordId)
        {
            throw DomainException.Precondition("endedByLandlordId", "must be one of the two parties");
        }

        Status = FederationStatus.Ended;
        EndedAt = at;
    }
}
