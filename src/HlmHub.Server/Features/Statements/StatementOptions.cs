namespace HlmHub.Server.Features.Statements;

/// <summary>The statement service's limits, bound from <c>Statements</c> (docs/reconciliation.md), validated at start-up.</summary>
internal sealed class StatementOptions
{
    public const string SectionName = "Statements";

    /// <summary>
    /// Event ids one statement may list (default 20,000: at 100 characters each about 2 MB, inside gRPC's 4 MB message
    /// limit). A partner with more events sends totals only; its month still reconciles per offer.
    /// </summary>
    public int MaxEventIds { get; set; } = 20_000;

    /// <summary>Lines (offers) one statement may carry (default 1,000).</summary>
    public int MaxLines { get; set; } = 1_000;
}
