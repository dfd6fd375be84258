namespace HlmHub.Domain.Roster;

/// <summary>Checks on a roster change that need nothing but the change itself.</summary>
public static class RosterRules
{
    /// <summary>Club opt-ins per household: at most 20.</summary>
    public const int MaxClubsPerHousehold = 20;

    /// <summary>The reason <paramref name="change"/> is malformed, or null when its shape is valid.</summary>
    public static (RosterRejection Rejection, string Message)? CheckShape(RosterChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Sequence < 1)
        {
            return (RosterRejection.Malformed, "sequence: must be 1 or more");
        }

        var reference = change.LandlordReference;
        if (string.IsNullOrWhiteSpace(reference) || reference.Length > Limits.LandlordReferenceMaxLength || !PrintableText.Is(reference)
            || reference.Trim().Length != reference.Length)
        {
            return (RosterRejection.Malformed, $"landlord_reference: 1 to {Limits.LandlordReferenceMaxLength} printable characters, no surrounding spaces");
        }

        if (change.SourceVersion < 1)
        {
            return (RosterRejection.Malformed, "version: must be 1 or more");
        }

        if (!Enum.IsDefined(change.Kind))
        {
            return (RosterRejection.Malformed, "kind: must be upsert or remove");
        }

        if (change.Kind == RosterChangeKind.Remove)
        {
            return null;
        }

        if (change.Rooms is < Limits.MinRooms or > Limits.MaxRooms)
        {
            return (RosterRejection.RoomsOutOfRange, $"rooms: must be {Limits.MinRooms} to {Limits.MaxRooms}, not {change.Rooms}");
        }

        if (change.ClubIds.Count > MaxClubsPerHousehold)
        {
            return (RosterRejection.TooManyClubs, $"club_ids: at most {MaxClubsPerHousehold} clubs per household");
        }

        foreach (var clubId in change.ClubIds)
        {
            if (!Require.IsSlug(clubId))
            {
                return (RosterRejection.Malformed, $"club_ids: '{PrintableText.Cut(clubId, 40, "…")}' is not a club id");
            }
        }

        return null;
    }

    /// <summary>
    /// A landlord reference as the hub repeats it in an answer or a message: cut after the longest valid one, so an
    /// oversized reference (rejected as malformed) cannot make the answer that reports it too large to send; cut
    /// between whole characters and with a NUL or a lone surrogate as U+FFFD (<see cref="PrintableText.Cut"/>), so
    /// the session's problems, which keep it, can be stored on PostgreSQL.
    /// </summary>
    public static string ReferenceForEcho(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return PrintableText.Cut(reference, Limits.LandlordReferenceMaxLength, "…");
    }
}
