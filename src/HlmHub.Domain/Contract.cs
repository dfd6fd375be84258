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

    /// <summary>Suspends a contract in force at <paramref name="now"/>.</summary>
    public void Suspend(DateTimeOffset now)
    {
        if (StatusAt(now) is var status && status != ContractStatus.Active)
        {
            throw DomainException.Precondition("status", $"only an active contract can be suspended (it is {status})");
        }

        Status = ContractStatus.Suspended;
    }

    /// <summary>Resumes a contract suspended at <paramref name="now"/>, if its trade is still free in the club.</summary>
    public void Resume(DateTimeOffset now, IEnumerable<Contract> activeContractsOfClub)
    {
        if (StatusAt(now) is var status && status != ContractStatus.Suspended)
        {
            throw DomainException.Precondition("status", $"only a suspended contract can be resumed (it is {status})");
        }

        ContractRules.EnsureTradeIsFree(this, activeContractsOfClub);
        Status = ContractStatus.Active;
    }

    /// <summary>
    /// The status as of <paramref name="instant"/>. A contract whose last day in force (<see cref="EndDate"/>, a
    /// calendar day in Europe/Paris) has passed by then reads as ended, whatever is stored; on its days in force it
    /// reads as it stood, even when read after its end. The stored status is what it is now, and
    /// <see cref="ContractStatus.Ended"/> is stored only for a contract that was active when it ended (a suspended
    /// one stays suspended, see <see cref="Settle"/>), so a late redemption gets the same answer whether or not
    /// anything recorded the end. Every rule reads this, never <see cref="Status"/> alone, so an end date takes
    /// effect on that date without anything having to run.
    /// </summary>
    public ContractStatus StatusAt(DateTimeOffset instant) => EndDate switch
    {
        // A last day before the first is a contract withdrawn before it came into force: it never is.
        { } lastDay when lastDay < StartDate || Period.DayOf(instant) > lastDay => ContractStatus.Ended,
        not null when Status == ContractStatus.Ended => ContractStatus.Active,
        _ => Status,
    };

    /// <summary>
    /// Whether the contract's first day in force (<see cref="StartDate"/>, a calendar day in Europe/Paris) has come
    /// by <paramref name="instant"/>. Before it, the contract offers nothing yet, whatever its status says.
    /// </summary>
    public bool HasStartedAt(DateTimeOffset instant) => Period.DayOf(instant) >= StartDate;

    /// <summary>
    /// Records that an active contract's last day in force has passed (status <see cref="ContractStatus.Ended"/>), so
    /// the one-building-company-per-trade index, which counts active contracts only, frees the trade. A suspended
    /// contract holds no trade and keeps its status, so its days in force still read as suspended. Returns whether
    /// anything changed.
    /// </summary>
    public bool Settle(DateTimeOffset now)
    {
        if (Status != ContractStatus.Active || StatusAt(now) != ContractStatus.Ended)
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
    /// today ends it at once. A contract not in force yet may be withdrawn with the day before its start date as
    /// its last day: it never comes into force, so no fee falls due.
    /// </summary>
    public void End(DateOnly lastDay, DateTimeOffset now)
    {
        if (StatusAt(now) == ContractStatus.Ended)
        {
            throw DomainException.Precondition("status", "the contract has already ended");
        }

        RequireSupported("endDate", lastDay);
        var earliest = HasStartedAt(now) ? StartDate : StartDate.AddDays(-1);
        if (lastDay < earliest)
        {
            throw DomainException.Invalid(
                "endDate",
                HasStartedAt(now)
                    ? "must not be before startDate"
                    : $"must not be before {earliest:yyyy-MM-dd}, the day before startDate (which withdraws a contract not in force yet)");
        }

        EndDate = lastDay;
        Settle(now);
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
