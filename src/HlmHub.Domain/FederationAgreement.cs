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

    /// <summary>
    /// When it ends or ended. An end set in the future leaves the agreement <see cref="FederationStatus.Active"/>
    /// until that instant (see <see cref="IsActiveAt"/>): either party may give notice ahead of time.
    /// </summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>
    /// Whether the agreement admits the landlord's households at <paramref name="instant"/>: accepted, and not ended
    /// as of then. The one reading of an agreement that eligibility uses (see <see cref="Rules.ClubEligibility"/>).
    /// </summary>
    public bool IsActiveAt(DateTimeOffset instant) => FederationRules.IsActiveAt(Status, EndedAt, instant);

    /// <summary>The status as of <paramref name="instant"/>: an active agreement whose end has passed reads as ended.</summary>
    public FederationStatus StatusAt(DateTimeOffset instant) =>
        Status == FederationStatus.Active && !IsActiveAt(instant) ? FederationStatus.Ended : Status;

    /// <summary>
    /// Records that a scheduled end has passed (status <see cref="FederationStatus.Ended"/>), so the one-live-agreement
    /// index lets a new proposal in. Returns whether anything changed. Eligibility never depends on it having run.
    /// </summary>
    public bool Settle(DateTimeOffset now)
    {
        if (StatusAt(now) == Status)
        {
            return false;
        }

        Status = FederationStatus.Ended;
        return true;
    }

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
            // As of now: an agreement whose notice ran out is ended, though its row may still say active.
            throw DomainException.Precondition("status", $"only a proposed agreement can be accepted (it is {StatusAt(at)})");
        }

        var otherParty = ProposedByLandlordId == LandlordId ? club.HostLandlordId : LandlordId;
        if (acceptedByLandlordId != otherParty)
        {
            throw DomainException.Precondition("acceptedByLandlordId", "must be the party that did not propose the agreement");
        }

        Status = FederationStatus.Active;
        AcceptedAt = at;
    }

    /// <summary>Either party ends the agreement (or withdraws a proposal) at once, at <paramref name="at"/>.</summary>
    public void End(Club club, string endedByLandlordId, DateTimeOffset at) => End(club, endedByLandlordId, endsAt: null, now: at);

    /// <summary>
    /// Either party ends the agreement, effective <paramref name="endsAt"/>. An end in the future (strictly after
    /// <paramref name="now"/>) is notice: the agreement stays active until then, and a later call may bring the date
    /// forward, never push it back (either party may end it, so neither may keep it alive past the other's notice).
    /// No end given, or one not in the future, ends it at once (the past cannot be rewritten: households were
    /// eligible until now). A proposal is always withdrawn at once.
    /// </summary>
    public void End(Club club, string endedByLandlordId, DateTimeOffset? endsAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(club);
        if (StatusAt(now) == FederationStatus.Ended)
        {
            throw DomainException.Precondition("status", "the agreement has already ended");
        }

        if (endedByLandlordId != club.HostLandlordId && endedByLandlordId != LandlordId)
        {
            throw DomainException.Precondition("endedByLandlordId", "must be one of the two parties");
        }

        if (Status == FederationStatus.Active && endsAt is { } scheduled && scheduled > now)
        {
            if (EndedAt is { } notice && scheduled > notice)
            {
                throw DomainException.Precondition(
                    "endsAt", $"notice is already given: the agreement ends at {notice:yyyy-MM-ddTHH:mm:ssZ}; an end can be brought forward, not pushed back");
            }

            EndedAt = scheduled;
            return;
        }

        Status = FederationStatus.Ended;
        EndedAt = now;
    }
}

/// <summary>The reading of an agreement's state that every rule shares.</summary>
public static class FederationRules
{
    /// <summary>Accepted, and not ended as of <paramref name="instant"/> (an end is exclusive: at that instant it has ended).</summary>
    public static bool IsActiveAt(FederationStatus status, DateTimeOffset? endedAt, DateTimeOffset instant) =>
        status == FederationStatus.Active && (endedAt is not { } end || instant < end);
}
