namespace HlmHub.Domain.Roster;

/// <summary>What a roster change asks for.</summary>
public enum RosterChangeKind
{
    /// <summary>Create the household, or update it (rooms, QPV flag, club opt-ins).</summary>
    Upsert,

    /// <summary>The household has left: it is marked as left, never deleted.</summary>
    Remove,
}

/// <summary>
/// One item of a landlord's roster sync session, keyed by the landlord's own reference (its stable external id,
/// as in SCIM's externalId). Nothing in it can name or locate a person: a reference, rooms, the QPV flag and the
/// clubs the household opted into.
/// </summary>
/// <param name="Sequence">The item's position in the session, from 1, strictly increasing: what resuming counts on.</param>
/// <param name="Kind">Upsert or remove.</param>
/// <param name="LandlordReference">The landlord's reference for the household (never leaves the hub).</param>
/// <param name="SourceVersion">The landlord's version of the record (at least 1): an older one than stored is stale.</param>
/// <param name="Rooms">1 to 7 (upserts only).</param>
/// <param name="InQpv">Whether the home is in a priority neighbourhood (upserts only).</param>
/// <param name="ClubIds">The clubs the household opted into (upserts only); consent travels with the roster.</param>
public sealed record RosterChange(
    long Sequence,
    RosterChangeKind Kind,
    string LandlordReference,
    long SourceVersion,
    int Rooms,
    bool InQpv,
    IReadOnlyList<string> ClubIds);

/// <summary>What became of one roster change.</summary>
public enum RosterItemOutcome
{
    /// <summary>A new household.</summary>
    Created,

    /// <summary>An existing household changed.</summary>
    Updated,

    /// <summary>The household was marked as left.</summary>
    Removed,

    /// <summary>Nothing changed (same content, or a removal of a household that had left already).</summary>
    Unchanged,

    /// <summary>Older than the stored version: ignored, never applied.</summary>
    Stale,

    /// <summary>Refused, with a reason; the rest of the session goes on.</summary>
    Rejected,
}

/// <summary>Why one roster change was refused.</summary>
public enum RosterRejection
{
    /// <summary>Not rejected.</summary>
    None,

    /// <summary>A field is missing or malformed (the message says which).</summary>
    Malformed,

    /// <summary>Rooms outside 1 to 7.</summary>
    RoomsOutOfRange,

    /// <summary>The same reference twice in one session.</summary>
    DuplicateReference,

    /// <summary>An opt-in to a club the hub does not know.</summary>
    UnknownClub,

    /// <summary>An opt-in to a club the landlord neither hosts nor has an active agreement with.</summary>
    NoAgreementWithClub,

    /// <summary>A removal of a household the hub does not know.</summary>
    UnknownHousehold,

    /// <summary>Too many club opt-ins on one household.</summary>
    TooManyClubs,
}

/// <summary>The result of one roster change.</summary>
public sealed record RosterItemResult(long Sequence, string LandlordReference, RosterItemOutcome Outcome, RosterRejection Rejection = RosterRejection.None, string? Message = null, string? MemberToken = null);
