namespace HlmHub.Domain.Tests;

/// <summary>What the factories accept from an administrator: ids, names and titles, and the amounts of an offer.</summary>
public sealed class InputRuleTests
{
    private const string Siren = "732829320";

    [Theory]
    [InlineData("acme\n")] // $ in a pattern matches before a final line break: it let this through as a slug.
    [InlineData("acme\r\n")]
    [InlineData("\nacme")]
    public void AnIdWithALineBreak_IsNotASlug(string id)
    {
        var error = Assert.Throws<DomainException>(() => Landlord.Create(id, "Acme Habitat", Siren, Samples.Now));

        Assert.Equal((DomainErrorKind.InvalidArgument, "id"), (error.Kind, error.Field));
        Assert.Equal("acme", Landlord.Create("acme", "Acme Habitat", Siren, Samples.Now).Id);
    }

    [Fact]
    public void AClubIdWithALineBreak_InARosterChange_IsMalformed()
    {
        var change = new Roster.RosterChange(1, Roster.RosterChangeKind.Upsert, "REF-1", 1, 3, false, ["club-plaine-commune\n"]);

        Assert.Equal(Roster.RosterRejection.Malformed, Roster.RosterRules.CheckShape(change)?.Rejection);
    }
}
