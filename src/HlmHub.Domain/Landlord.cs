namespace HlmHub.Domain;

/// <summary>A social landlord (organisme HLM), identified by a slug and its SIREN.</summary>
public sealed class Landlord
{
    private Landlord()
    {
        Id = "";
        Name = "";
        Siren = "";
    }

    /// <summary>The slug id, e.g. <c>plaine-commune-habitat</c>.</summary>
    public string Id { get; private set; }

    /// <summary>The display name.</summary>
    public string Name { get; private set; }

    /// <summary>The SIREN (9 digits, Luhn-checked).</summary>
    public string Siren { get; private set; }

    /// <summary>When the landlord was registered.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Validates and creates a landlord.</summary>
    public static Landlord Create(string id, string name, string siren, DateTimeOffset createdAt) => new()
    {
        Id = Require.Slug("id", id),
        Name = Require.Text("name", name, Limits.NameMaxLength),
        Siren = BusinessIdentifiers.RequireSiren("siren", siren),
        CreatedAt = createdAt,
    };
}
