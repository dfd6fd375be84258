using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>The redemption limits, bound from <c>Redemptions</c>; each default is documented in docs/redemptions.md.</summary>
internal sealed class RedemptionOptions
{
    public const string SectionName = "Redemptions";

    /// <summary>
    /// Events committed in one database transaction (default 500). A batch closes when it is this big or when
    /// <see cref="BatchLinger"/> has passed since its first event, whichever comes first.
    /// </summary>
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>
    /// How long a batch that is not full waits for more events before it commits (default 2 ms). Under load the
    /// queue fills while the previous batch commits, so batches close on size; at a trickle this bounds the
    /// latency it adds.
    /// </summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Events of one stream received and not yet acknowledged (default 1,000). A partner that sends more waits:
    /// the hub stops reading its stream, and HTTP/2 flow control holds the partner back.
    /// </summary>
    public int MaxInFlightPerStream { get; set; } = 1_000;

    /// <summary>
    /// <c>StreamRedemptions</c> calls one partner may hold open on one hub instance (default 16); one more is
    /// RESOURCE_EXHAUSTED naming this setting. Each stream holds a window of <see cref="MaxInFlightPerStream"/>
    /// events: the bound keeps one partner from taking the shared queue, and this instance's connections, from the
    /// others. <c>Redeem</c> calls are not counted (each holds one event).
    /// </summary>
    public int MaxStreamsPerPartner { get; set; } = 16;

    /// <summary>Events of all streams waiting for a batch (default 20,000); beyond it, streams wait to hand theirs over.</summary>
    public int MaxQueuedEvents { get; set; } = 20_000;

    /// <summary>How far in the future (by the hub's clock) an event's <c>occurred_at</c> may be (default 5 minutes).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Attempts to commit one batch when another hub instance changed the same rows first (a cap counter, or the
    /// same event) (default 5). Each attempt reads again and decides again; after the last, the batch's events are
    /// answered UNAVAILABLE and the partner resends them.
    /// </summary>
    public int MaxCommitAttempts { get; set; } = 5;

    /// <summary>
    /// Rejected events of one partner stored per day (Europe/Paris) by one hub instance (default 10,000). A rejected
    /// event is stored so that a resend gets the first answer; past this, the partner's rejected events are still
    /// answered, with their reason, but not stored (the answer says so, and a resend is decided again): a broken
    /// integration sending garbage under fresh event ids cannot grow the database without bound. Accepted events are
    /// never affected.
    /// </summary>
    public int MaxStoredRejectionsPerPartnerPerDay { get; set; } = 10_000;

    /// <summary>The start-up check of these limits; null when valid, else the message.</summary>
    public string? Validate() =>
        MaxBatchSize is < 1 or > 10_000 ? $"{SectionName}:MaxBatchSize must be between 1 and 10000 (it is {MaxBatchSize})."
        : BatchLinger < TimeSpan.Zero || BatchLinger > TimeSpan.FromSeconds(1) ? $"{SectionName}:BatchLinger must be between 0 and 1 second (it is {BatchLinger})."
        : MaxInFlightPerStream is < 1 or > 100_000 ? $"{SectionName}:MaxInFlightPerStream must be between 1 and 100000 (it is {MaxInFlightPerStream})."
        : MaxStreamsPerPartner is < 1 or > 10_000 ? $"{SectionName}:MaxStreamsPerPartner must be between 1 and 10000 (it is {MaxStreamsPerPartner})."
        : MaxQueuedEvents < MaxBatchSize ? $"{SectionName}:MaxQueuedEvents must be at least MaxBatchSize (it is {MaxQueuedEvents})."
        : MaxClockSkew < TimeSpan.Zero || MaxClockSkew > TimeSpan.FromHours(1) ? $"{SectionName}:MaxClockSkew must be between 0 and 1 hour (it is {MaxClockSkew})."
        : MaxCommitAttempts is < 1 or > 100 ? $"{SectionName}:MaxCommitAttempts must be between 1 and 100 (it is {MaxCommitAttempts})."
        : MaxStoredRejectionsPerPartnerPerDay < 0 ? $"{SectionName}:MaxStoredRejectionsPerPartnerPerDay must be 0 or more (it is {MaxStoredRejectionsPerPartnerPerDay})."
        : null;
}

/// <summary>Refuses to start with a limit out of range, naming the setting and its range.</summary>
internal sealed class RedemptionOptionsValidation : IValidateOptions<RedemptionOptions>
{
    public ValidateOptionsResult Validate(string? name, RedemptionOptions options) =>
        options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
