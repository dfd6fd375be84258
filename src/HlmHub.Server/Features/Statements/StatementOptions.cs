using HlmHub.Server.Hosting;

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

    /// <summary>
    /// The start-up rules: both limits positive, and a statement at both, every id at its longest, within
    /// <paramref name="maxMessageBytes"/> (<c>Hub:MaxMessageSizeBytes</c>; null when that setting is itself invalid).
    /// Otherwise the limits would promise statements the message size refuses (RESOURCE_EXHAUSTED, with no word of
    /// these settings).
    /// </summary>
    public static void Check(SettingChecks check, StatementOptions options, int? maxMessageBytes)
    {
        check.Positive(nameof(MaxEventIds), options.MaxEventIds).Positive(nameof(MaxLines), options.MaxLines);
        if (maxMessageBytes is not { } max || options.MaxLines <= 0 || options.MaxEventIds <= 0)
        {
            return;
        }

        var maxLines = StatementMessageSize.MaxLines(max);
        if (options.MaxLines > maxLines)
        {
            check.Rule(false, nameof(MaxLines), $"must be at most {maxLines}, the lines that fit Hub:MaxMessageSizeBytes ({max}) (it is {options.MaxLines})");
            return;
        }

        var maxEventIds = StatementMessageSize.MaxEventIds(max, options.MaxLines);
        check.Rule(
            options.MaxEventIds <= maxEventIds,
            nameof(MaxEventIds),
            $"must be at most {maxEventIds}, the event ids of {Domain.Limits.PartnerEventIdMaxLength} characters that fit Hub:MaxMessageSizeBytes ({max}) beside Statements:MaxLines ({options.MaxLines}) lines (it is {options.MaxEventIds})");
    }
}
