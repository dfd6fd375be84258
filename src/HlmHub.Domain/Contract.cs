namespace HlmHub.Domain;

/// <summary>Where a partner's contract with a club is.</summary>
public enum ContractStatus
{
    /// <summary>In force: the partner's offers can be redeemed.</summary>
    Active,

    /// <summary>Temporarily suspended (e.g. fee overdue): redemptions are rejected.</summary>
    Suspended,

    /// <summary>Over.</summary>
    Ended,
}

/// <summary>A partner's membership of a club, for a yearly fee.</summary>
public sealed class Contract
{
    /// <summary>The default yearly fee: 100 EUR.</summary>
    public static readonly Money DefaultYearlyFee = Money.FromEuros(100);

    /// <summary>The default yearly fee of a building company: 1,000 EUR.</summary>
    public static readonly Money DefaultBuildingTradeYearlyFee = Money.FromEuros(1_000);

    private Contract()
    {
        Id = "";
        ClubId = "";
        PartnerId = "";
    }

    /// <summary>The slug id.</summary>
    public string Id { get; private set; }

    /// <summary>The club.</summary>
    public string ClubId { get; private set; }

    /// <summary>The partner.</summary>
    public string PartnerId { get; private set; }

    /// <summary>The building trade this contract holds in the club (copied from the partner), null otherwise.</summary>
    public string? Trade { get; private set; }

    /// <summary>The yearly membership fee.</summary>
    public Money YearlyFee { get; private set; }

    /// <summary>First day in force.</summary>
    public DateOnly StartDate { get; private set; }

    /// <summary>Last day in force, if fixed.</summary>
    public DateOnly? EndDate { get; private set; }

    /// <summary>Active, suspended or ended.</summary>
    public ContractStatus Status { get; private set; }

    /// <summary>When the contract was recorded.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The default yearly fee for a kind of partner.</summary>
    public static Money DefaultFeeFor(PartnerKind kind) =>
        kind == PartnerKind.BuildingTrade ? DefaultBuildingTradeYearlyFee : DefaultYearlyFee;

    /// <summary>
    /// Validates and creates an active contract. <paramref name="activeContractsOfClub"/> are the club's
    /// active contracts: a club accepts one building company per trade.
    /// </summary>
    public static Contract Create(
        string id,
        Club club,
        Partner partner,
        Money? yearlyFee,
        DateOnly startDate,
        DateOnly? endDate,
        IEnumerable<Contract> activeContractsOfClub,
        DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(club);
        ArgumentNullException.ThrowIfNull(partner);
        RequireSupported("startDate", startDate);
        if (endDate is { } end)
        {
            RequireSupported("endDate", end);
            if (end < startDate)
            {
                throw DomainException.Invalid("endDate", "must not be before startDate");
            }
        }

        var fee = Require.NotNegative("yearlyFee", yearlyFee ?? DefaultFeeFor(partner.Kind));
        if (fee.Cents > Limits.MaxAmountCents)
        {
            throw DomainException.Invalid("yearlyFee", $"must be at most {Limits.MaxAmountCents} cents (10,000,000.00 EUR)");
        }

        var contract = new Contract
        {
            Id = Require.Slug("id", id),
            ClubId = club.Id,
            PartnerId = partner.Id,
            Trade = partner.Kind == PartnerKind.BuildingTrade ? partner.Trade : null,
            YearlyFee = fee,
            StartDate = startDate,
            EndDate = endDate,
            Status = ContractStatus.Active,
            CreatedAt = createdAt,
        };
        ContractRules.EnsureTradeIsFree(contract, activeContractsOfClub);
        return contract;
    }

    /// <summary>Suspends an active contract.</summary>
    public void Suspend()
    {
        if (Status != ContractStatus.Active)
        {
            throw DomainException.Precondition("status", $"only an active contract can be suspended (it is {Status})");
        }

        Status = ContractStatus.Suspended;
    }

    /// <summary>Resumes a suspended contract, if its trade is still free in the club.</summary>
    public void Resume(IEnumerable<Contract> activeContractsOfClub)
    {
        if (Status != ContractStatus.Suspended)
        {
            throw DomainException.Precondition("status", $"only a suspended contract can be resumed (it is {Status})");
        }

        ContractRules.EnsureTradeIsFree(this, activeContractsOfClub);
        Status = ContractStatus.Active;
    }

    /// <summary>
    /// The status as of <paramref name="instant"/>: a contract whose last day in force (<see cref="EndDate"/>, a
    /// calendar day in Europe/Paris) has passed reads as ended, whatever is stored. Every rule reads this, never
    /// <see cref="Status"/> alone, so an end date takes effect on that date without anything having to run.
    /// </summary>
    public ContractStatus StatusAt(DateTimeOffset instant) =>
        Status != ContractStatus.Ended && EndDate is { } lastDay && Period.DayOf(instant) > lastDay ? ContractStatus.Ended : Status;

    /// <summary>
    /// Whether the contract's first day in force (<see cref="StartDate"/>, a calendar day in Europe/Paris) has come
    /// by <paramref name="instant"/>. Before it, the contract offers nothing yet, whatever its status says.
    /// </summary>
    public bool HasStartedAt(DateTimeOffset instant) => Period.DayOf(instant) >= StartDate;

    /// <summary>
    /// Records that the last day in force has passed (status <see cref="ContractStatus.Ended"/>), so the
    /// one-building-company-per-trade index frees the trade. Returns whether anything changed.
    /// </summary>
    public bool Settle(DateTimeOffset now)
    {
        if (StatusAt(now) == Status)
        {
            return false;
        }

        Status = ContractStatus.Ended;
        return true;
    }

    /// <summary>
    /// Ends the contract with <paramref name="lastDay"/> as its last day in force (a calendar day in Europe/Paris).
    /// A last day today or later is notice: the contract stays in force (active or suspended) through that day and
    /// reads as ended from the next (<see cref="StatusAt"/>); a later call may move the date. A last day before
    /// today ends it at once.
    /// </summary>
    public void End(DateOnly lastDay, DateTimeOffset now)
    {
        if (StatusAt(now) == ContractStatus.Ended)
        {
            throw DomainException.Precondition("status", "the contract has already ended");
        }

        RequireSupported("endDate", lastDay);
        if (lastDay < StartDate)
        {
            throw DomainException.Invalid("endDate", "must not be before startDate");
        }

        EndDate = lastDay;
        if (lastDay < Period.DayOf(now))
        {
            Status = ContractStatus.Ended;
        }
    }

    /// <summary>Ends the contract at once, recording <paramref name="endDate"/> as its last day.</summary>
    public void End(DateOnly endDate)
    {
        if (Status == ContractStatus.Ended)
        {
            throw DomainException.Precondition("status", "the contract has already ended");
        }

        RequireSupported("endDate", endDate);
        if (endDate < StartDate)
        {
            throw DomainException.Invalid("endDate", "must not be before startDate");
        }

        EndDate = endDate;
        Status = ContractStatus.Ended;
    }

    // Fees fall due on the start date and its anniversaries, and are booked in those months: a day outside the years
    // the hub keeps months for (Period) could never be booked, and would stop every fee job at this contract.
    private static void RequireSupported(string field, DateOnly day)
    {
        if (day.Year is < Period.MinYear or > Period.MaxYear)
        {
            throw DomainException.Invalid(field, $"must be in the years {Period.MinYear} to {Period.MaxYear}");
        }
    }
}

/// <summary>Rules about contracts that involve more than one contract.</summary>
public static class ContractRules
{
    /// <summary>
    /// A club accepts only one active building company per trade. Throws FAILED_PRECONDITION naming the trade when
    /// another active contract of the same club holds it.
    /// </summary>
    public static void EnsureTradeIsFree(Contract contract, IEnumerable<Contract> activeContractsOfClub)
    {
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(activeContractsOfClub);
        if (contract.Trade is null)
        {
            return;
        }

        var holder = activeContractsOfClub.FirstOrDefault(other =>
            other.Id != contract.Id && other.ClubId == contract.ClubId && other.Status == ContractStatus.Active
            && other.Trade == contract.Trade);
        if (holder is not null)
        {
            throw DomainException.Precondition(
                "trade", $"the club already has an active building-trade contract for '{contract.Trade}' ({holder.Id}): one per trade");
        }
    }
}
