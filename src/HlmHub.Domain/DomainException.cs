namespace HlmHub.Domain;

/// <summary>How a rule failure should be reported to a caller.</summary>
public enum DomainErrorKind
{
    /// <summary>The input itself is wrong, whatever the state (gRPC INVALID_ARGUMENT).</summary>
    InvalidArgument,

    /// <summary>The input is well-formed but the current state refuses it (gRPC FAILED_PRECONDITION).</summary>
    FailedPrecondition,

    /// <summary>What the input names does not exist, or not for this caller (gRPC NOT_FOUND).</summary>
    NotFound,

    /// <summary>A named limit is exceeded; the rule names the limit and its value (gRPC RESOURCE_EXHAUSTED).</summary>
    LimitExceeded,
}

/// <summary>
/// A domain rule refused an operation. Carries the offending field and the rule so the API can answer with a
/// message naming both (INVALID_ARGUMENT or FAILED_PRECONDITION according to <see cref="Kind"/>).
/// </summary>
public sealed class DomainException : Exception
{
    /// <summary>Creates the exception; the message reads "{field}: {rule}".</summary>
    public DomainException(DomainErrorKind kind, string field, string rule)
        : base($"{field}: {rule}")
    {
        Kind = kind;
        Field = field;
        Rule = rule;
    }

    /// <summary>Whether the input or the state is at fault.</summary>
    public DomainErrorKind Kind { get; }

    /// <summary>The field at fault, in the API's lowerCamel naming (e.g. <c>siren</c>, <c>rooms</c>).</summary>
    public string Field { get; }

    /// <summary>The rule that failed, in words (e.g. "must be 9 digits with a valid Luhn checksum").</summary>
    public string Rule { get; }

    internal static DomainException Invalid(string field, string rule) => new(DomainErrorKind.InvalidArgument, field, rule);

    internal static DomainException Precondition(string field, string rule) => new(DomainErrorKind.FailedPrecondition, field, rule);
}
