using System.Diagnostics;
using System.Diagnostics.Metrics;
using HlmHub.Domain;
using HlmHub.Domain.Roster;

namespace HlmHub.Observability;

/// <summary>
/// The hub's own instruments, on the meter <see cref="MeterName"/> (docs/operations.md lists them). One singleton,
/// created through <see cref="IMeterFactory"/> so each host (and each test host) has its own meter. Every tag value
/// comes from a closed set (an enum's name in snake_case, or an allow-list): never an id, a member token, a client
/// id or any other value a caller chose, which would leak personal data and make the series unbounded.
/// Record only what happened, once it is durable (after the commit), so the numbers match what users were told.
/// </summary>
public sealed class HubMetrics
{
    /// <summary>The meter's name: what <c>dotnet-counters --counters</c> and the OpenTelemetry meter provider name.</summary>
    public const string MeterName = "HlmHub";

    /// <summary>The tag naming an outcome (every counter of the hub that has one).</summary>
    public const string OutcomeTag = "hlmhub.outcome";

    /// <summary>The tag naming why something was refused (redemptions, eligibility checks, roster changes).</summary>
    public const string ReasonTag = "hlmhub.reason";

    /// <summary>The tag naming what a roster change did to the household.</summary>
    public const string RosterChangeKindTag = "hlmhub.roster.change";

    /// <summary>The tag naming the redemption event's kind (redemption or cancellation).</summary>
    public const string RedemptionKindTag = "hlmhub.redemption.kind";

    /// <summary>The tag naming a discrepancy's kind.</summary>
    public const string DiscrepancyKindTag = "hlmhub.discrepancy.kind";

    /// <summary>The tag naming the OAuth grant type of a token request.</summary>
    public const string GrantTypeTag = "hlmhub.grant_type";

    /// <summary>The tag naming the client's kind (partner, landlord, admin), when the client was authenticated.</summary>
    public const string ClientKindTag = "hlmhub.client.kind";

    /// <summary>The OpenTelemetry semantic-convention attribute for the error of a failed operation.</summary>
    public const string ErrorTypeTag = "error.type";

    // Outcome values shared by several instruments.
    internal const string Success = "success";
    internal const string Failure = "failure";
    internal const string Other = "other";
    internal const string Unknown = "unknown";

    // The OAuth 2.0 error codes a token endpoint answers (RFC 6749 §5.2, RFC 8707, RFC 9449); anything else is "other".
    private static readonly HashSet<string> TokenErrors = new(StringComparer.Ordinal)
    {
        "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
        "invalid_scope", "invalid_target", "server_error", "temporarily_unavailable", "access_denied", "slow_down",
    };

    private static readonly HashSet<string> GrantTypes = new(StringComparer.Ordinal)
    {
        "client_credentials", "authorization_code", "refresh_token", "password", "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:device_code",
    };

    /// <summary>
    /// Bucket bounds, in seconds, of <c>hlmhub.reconciliation.run.duration</c>: a run takes from milliseconds (a quiet
    /// month) to minutes (a large club). Without them OpenTelemetry would export the SDK's default bounds (0, 5, 10, 25
    /// ... 10000), which are meant for milliseconds: every run under 5 s would fall in one bucket.
    /// </summary>
    internal static readonly IReadOnlyList<double> ReconciliationDurationBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly Counter<long> redemptions;
    private readonly Counter<long> rosterChanges;
    private readonly Counter<long> eligibilityChecks;
    private readonly Counter<long> reconciliationRuns;
    private readonly Histogram<double> reconciliationDuration;
    private readonly Counter<long> discrepancies;
    private readonly Counter<long> tokenRequests;
    private readonly Counter<long> overdueFees;

    public HubMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        redemptions = meter.CreateCounter<long>(
            "hlmhub.redemptions", "{redemption}", "Redemption events answered, by outcome (accepted, rejected, duplicate) and rejection reason.");
        rosterChanges = meter.CreateCounter<long>(
            "hlmhub.roster.changes", "{change}", "Roster changes applied, by what they did (created, updated, removed, unchanged, stale, rejected, left) and rejection reason.");
        eligibilityChecks = meter.CreateCounter<long>(
            "hlmhub.eligibility.checks", "{check}", "Eligibility checks answered, by result (eligible or not) and reason.");
        reconciliationRuns = meter.CreateCounter<long>(
            "hlmhub.reconciliation.runs", "{run}", "Reconciliation runs finished, by outcome (success or failure).");
        reconciliationDuration = meter.CreateHistogram<double>(
            "hlmhub.reconciliation.run.duration", "s", "How long reconciliation runs took, by outcome.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ReconciliationDurationBuckets });
        discrepancies = meter.CreateCounter<long>(
            "hlmhub.reconciliation.discrepancies", "{discrepancy}", "Discrepancies found by reconciliation runs, by kind.");
        tokenRequests = meter.CreateCounter<long>(
            "hlmhub.token.requests", "{request}", "Token requests answered by the embedded issuer, by grant type, client kind and outcome (success, or failure with its OAuth error).");
        overdueFees = meter.CreateCounter<long>(
            "hlmhub.fees.overdue", "{fee}", "Partner fees newly found overdue by the daily check (each fee counted once).");
    }

    /// <summary>
    /// One redemption event answered: <paramref name="reason"/> for a rejection, null otherwise. A duplicate is
    /// counted as such (the partner was answered again), not as a second acceptance.
    /// </summary>
    public void RecordRedemption(RedemptionOutcome outcome, RejectionReason? reason = null, RedemptionKind kind = RedemptionKind.Redemption, long count = 1)
    {
        if (!redemptions.Enabled || count <= 0)
        {
            return;
        }

        var tags = new TagList
        {
            { OutcomeTag, TagValues.Of(outcome) },
            { RedemptionKindTag, TagValues.Of(kind) },
        };
        if (reason is { } why)
        {
            tags.Add(ReasonTag, TagValues.Of(why));
        }

        redemptions.Add(count, tags);
    }

    /// <summary>
    /// <paramref name="count"/> roster changes of one landlord's batch, once it committed, that had
    /// <paramref name="outcome"/> (with <paramref name="rejection"/> when rejected).
    /// </summary>
    public void RecordRosterChanges(RosterItemOutcome outcome, RosterRejection rejection, long count)
    {
        if (!rosterChanges.Enabled || count <= 0)
        {
            return;
        }

        var tags = new TagList { { RosterChangeKindTag, TagValues.Of(outcome) } };
        if (outcome == RosterItemOutcome.Rejected)
        {
            tags.Add(ReasonTag, TagValues.Of(rejection));
        }

        rosterChanges.Add(count, tags);
    }

    /// <summary>Households a completed full snapshot marked as left (not listed in it), with the change kind <c>left</c>.</summary>
    public void RecordHouseholdsLeft(long count)
    {
        if (rosterChanges.Enabled && count > 0)
        {
            rosterChanges.Add(count, new KeyValuePair<string, object?>(RosterChangeKindTag, "left"));
        }
    }

    /// <summary>One eligibility check answered: eligible when <paramref name="reason"/> is null, refused with it otherwise.</summary>
    public void RecordEligibilityCheck(RejectionReason? reason)
    {
        if (!eligibilityChecks.Enabled)
        {
            return;
        }

        if (reason is { } why)
        {
            eligibilityChecks.Add(1, new(OutcomeTag, "not_eligible"), new(ReasonTag, TagValues.Of(why)));
        }
        else
        {
            eligibilityChecks.Add(1, new KeyValuePair<string, object?>(OutcomeTag, "eligible"));
        }
    }

    /// <summary>One reconciliation run finished (<paramref name="succeeded"/> or not) after <paramref name="duration"/>.</summary>
    public void RecordReconciliationRun(bool succeeded, TimeSpan duration)
    {
        var outcome = new KeyValuePair<string, object?>(OutcomeTag, succeeded ? Success : Failure);
        reconciliationRuns.Add(1, outcome);
        reconciliationDuration.Record(duration.TotalSeconds, outcome);
    }

    /// <summary>
    /// <paramref name="count"/> discrepancies of <paramref name="kind"/> found by a run. The kind is an enum of the
    /// reconciliation engine, so the tag stays a closed set.
    /// </summary>
    public void RecordDiscrepancies(Enum kind, long count)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (discrepancies.Enabled && count > 0)
        {
            discrepancies.Add(count, new KeyValuePair<string, object?>(DiscrepancyKindTag, TagValues.Of(kind)));
        }
    }

    /// <summary>
    /// One token request answered by the embedded issuer. <paramref name="grantType"/> and <paramref name="error"/>
    /// come from the request and OpenIddict: values outside the OAuth vocabularies are recorded as <c>other</c>.
    /// <paramref name="clientKind"/> is known only once the client authenticated (<c>unknown</c> otherwise).
    /// </summary>
    public void RecordTokenRequest(string? grantType, Enum? clientKind, string? error)
    {
        if (!tokenRequests.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { GrantTypeTag, grantType is null ? Unknown : GrantTypes.Contains(grantType) ? grantType : Other },
            { ClientKindTag, clientKind is null ? Unknown : TagValues.Of(clientKind) },
            { OutcomeTag, error is null ? Success : Failure },
        };
        if (error is not null)
        {
            tags.Add(ErrorTypeTag, TokenErrors.Contains(error) ? error : Other);
        }

        tokenRequests.Add(1, tags);
    }

    /// <summary><paramref name="count"/> partner fees newly recorded as overdue by the scheduled check.</summary>
    public void RecordOverdueFees(long count)
    {
        if (overdueFees.Enabled && count > 0)
        {
            overdueFees.Add(count);
        }
    }
}
