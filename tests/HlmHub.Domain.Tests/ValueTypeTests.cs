using HlmHub.Domain;

namespace HlmHub.Domain.Tests;

public sealed class MoneyTests
{
    [Fact]
    public void Addition_Overflowing_ThrowsInsteadOfWrapping()
    {
        Assert.Throws<OverflowException>(() => new Money(long.MaxValue) + new Money(1));
        Assert.Throws<OverflowException>(() => new Money(long.MinValue) - new Money(1));
        Assert.Throws<OverflowException>(() => Money.FromEuros(long.MaxValue / 10));
    }

    [Theory]
    [InlineData(1999, 1000, 199)] // 10 % of 19.99 EUR is 1.999 EUR: rounded down to 1.99 EUR.
    [InlineData(10000, 1000, 1000)]
    [InlineData(1, 5000, 0)]
    public void Percent_RoundsDownToTheCent(long cents, int basisPoints, long expectedCents)
    {
        Assert.Equal(new Money(expectedCents), new Money(cents).Percent(basisPoints));
    }

    [Fact]
    public void Percent_OfHugeAmount_DoesNotOverflowTheIntermediateProduct()
    {
        Assert.Equal(new Money(long.MaxValue / 2), new Money(long.MaxValue).Percent(5000));
    }

    [Fact]
    public void ToString_ShowsEurosWithTwoDecimals()
    {
        Assert.Equal("12.05 EUR", new Money(1205).ToString());
        Assert.Equal("-0.50 EUR", new Money(-50).ToString());
    }
}

public sealed class PeriodTests
{
    [Theory]
    // Winter (UTC+1): 23:30 UTC on 31 January is 00:30 on 1 February in Paris.
    [InlineData("2026-01-31T22:59:59Z", 2026, 1)]
    [InlineData("2026-01-31T23:00:00Z", 2026, 2)]
    [InlineData("2026-01-31T23:30:00Z", 2026, 2)]
    // Summer (UTC+2): the month turns at 22:00 UTC.
    [InlineData("2026-06-30T21:59:59Z", 2026, 6)]
    [InlineData("2026-06-30T22:00:00Z", 2026, 7)]
    // New year in Paris happens at 23:00 UTC on 31 December.
    [InlineData("2025-12-31T23:00:00Z", 2026, 1)]
    // DST starts on 29 March 2026 and ends on 25 October 2026: mid-month, the period is unchanged.
    [InlineData("2026-03-29T01:30:00Z", 2026, 3)]
    [InlineData("2026-10-25T00:30:00Z", 2026, 10)]
    // The instant's own offset does not matter, only the instant.
    [InlineData("2026-03-01T00:30:00+01:00", 2026, 3)]
    [InlineData("2026-02-28T23:30:00-01:00", 2026, 3)]
    public void Of_UsesTheClockInParis(string instant, int year, int month)
    {
        Assert.Equal(new Period(year, month), Period.Of(DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Bounds_OfMarch_StartInWinterTimeAndEndInSummerTime()
    {
        var march = new Period(2026, 3);

        Assert.Equal(new DateTimeOffset(2026, 2, 28, 23, 0, 0, TimeSpan.Zero), march.StartUtc);
        Assert.Equal(new DateTimeOffset(2026, 3, 31, 22, 0, 0, TimeSpan.Zero), march.EndUtc);
        Assert.Equal(TimeSpan.FromHours((31 * 24) - 1), march.EndUtc - march.StartUtc);
    }

    [Fact]
    public void Bounds_OfOctober_AreOneHourLongerThanItsDays()
    {
        var october = new Period(2026, 10);

        Assert.Equal(new DateTimeOffset(2026, 9, 30, 22, 0, 0, TimeSpan.Zero), october.StartUtc);
        Assert.Equal(new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), october.EndUtc);
        Assert.Equal(TimeSpan.FromHours((31 * 24) + 1), october.EndUtc - october.StartUtc);
    }

    [Fact]
    public void Contains_IncludesStartAndExcludesEnd()
    {
        var january = new Period(2026, 1);

        Assert.True(january.Contains(january.StartUtc));
        Assert.False(january.Contains(january.EndUtc));
        Assert.True(january.Contains(january.EndUtc.AddTicks(-1)));
        Assert.Equal(new Period(2026, 2), Period.Of(january.EndUtc));
    }

    [Fact]
    public void NextAndPrevious_CrossYears()
    {
        Assert.Equal(new Period(2027, 1), new Period(2026, 12).Next());
        Assert.Equal(new Period(2025, 12), new Period(2026, 1).Previous());
    }

    [Fact]
    public void ParseAndKey_RoundTrip()
    {
        var period = Period.Parse("period", "2026-11");

        Assert.Equal("2026-11", period.ToString());
        Assert.Equal(202611, period.Key);
        Assert.Equal(period, Period.FromKey(202611));
    }

    [Theory]
    [InlineData("2026-13")]
    [InlineData("2026-1")]
    [InlineData("26-11")]
    [InlineData("")]
    public void Parse_Invalid_NamesTheField(string text)
    {
        var error = Assert.Throws<DomainException>(() => Period.Parse("period", text));

        Assert.Equal("period", error.Field);
        Assert.Equal(DomainErrorKind.InvalidArgument, error.Kind);
    }
}

public sealed class BusinessIdentifierTests
{
    [Theory]
    [InlineData("552100554", true)]
    [InlineData("732829320", true)]
    [InlineData("123456789", false)]
    [InlineData("55210055", false)]
    [InlineData("55210055a", false)]
    [InlineData(null, false)]
    public void Siren_IsNineDigitsPassingLuhn(string? siren, bool valid)
    {
        Assert.Equal(valid, BusinessIdentifiers.IsValidSiren(siren));
    }

    [Theory]
    [InlineData("55210055400013", true)]
    [InlineData("73282932000074", true)]
    [InlineData("73282932000075", false)]
    [InlineData("12345678901234", false)] // digit sum is a multiple of 5, but it is not La Poste.
    [InlineData("35600000000048", true)] // La Poste's head office passes Luhn.
    [InlineData("35600000010000", true)] // Another La Poste establishment: fails Luhn, digit sum multiple of 5.
    [InlineData("35600000010001", false)]
    [InlineData("5521005540001", false)]
    [InlineData("12345678900007", false)] // passes Luhn over its 14 digits, but its SIREN 123456789 does not.
    [InlineData("12345678200010", true)] // the same with a valid SIREN, 123456782.
    public void Siret_IsFourteenDigitsPassingLuhnOrLaPosteRule_StartingWithAValidSiren(string siret, bool valid)
    {
        Assert.Equal(valid, BusinessIdentifiers.IsValidSiret(siret));
    }

    [Fact]
    public void Landlord_WithBadSiren_IsRefusedNamingTheField()
    {
        var error = Assert.Throws<DomainException>(() =>
            Landlord.Create("plaine-commune-habitat", "Plaine Commune Habitat", "123456789", DateTimeOffset.UnixEpoch));

        Assert.Equal("siren", error.Field);
        Assert.Contains("Luhn", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Plaine-Commune")]
    [InlineData("-leading")]
    [InlineData("")]
    [InlineData("with space")]
    public void Landlord_WithBadSlug_IsRefusedNamingTheField(string id)
    {
        var error = Assert.Throws<DomainException>(() => Landlord.Create(id, "Name", "552100554", DateTimeOffset.UnixEpoch));

        Assert.Equal("id", error.Field);
    }
}

public sealed class MemberTokenTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(value => (byte)value).ToArray();

    [Fact]
    public void SameHousehold_GetsTheSameToken()
    {
        var generator = new MemberTokenGenerator(Key);

        Assert.Equal(generator.Compute("amsom", "REF-001"), new MemberTokenGenerator(Key).Compute("amsom", "REF-001"));
    }

    [Fact]
    public void Token_DoesNotContainTheReferenceAndDiffersAcrossLandlordsAndKeys()
    {
        var generator = new MemberTokenGenerator(Key);
        var token = generator.Compute("amsom", "REF-001");

        Assert.StartsWith("mt_", token, StringComparison.Ordinal);
        Assert.DoesNotContain("REF-001", token, StringComparison.Ordinal);
        Assert.NotEqual(token, generator.Compute("plaine-commune-habitat", "REF-001"));
        Assert.NotEqual(token, new MemberTokenGenerator(Enumerable.Repeat((byte)7, 32).ToArray()).Compute("amsom", "REF-001"));
        Assert.True(token.Length <= Limits.MemberTokenMaxLength);
    }

    [Fact]
    public void FieldBoundaries_AreNotAmbiguous()
    {
        var generator = new MemberTokenGenerator(Key);

        Assert.NotEqual(generator.Compute("ab", "c1"), generator.Compute("a", "bc1"));
    }

    [Fact]
    public void ShortKey_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new MemberTokenGenerator(new byte[16]));
    }
}

public sealed class PeriodClosureTests
{
    [Fact]
    public void LateEventInClosedMonth_IsBookedInTheNextOpenMonth()
    {
        Period[] closed = [new(2026, 9), new(2026, 10)];

        Assert.Equal(new Period(2026, 11), PeriodRules.BookingPeriod(new Period(2026, 9), closed));
        Assert.Equal(new Period(2026, 11), PeriodRules.BookingPeriod(new Period(2026, 11), closed));
        Assert.Equal(new Period(2026, 12), PeriodRules.BookingPeriod(new Period(2026, 12), closed));
    }

    [Fact]
    public void EventBeforeTheFirstClosedMonth_IsBookedAfterTheLastClosedOne()
    {
        // 2026-08 was never closed (it comes before the club's first month), but 2026-09 and 2026-10 were: a booking
        // in August would land under months whose runs are final.
        Period[] closed = [new(2026, 9), new(2026, 10)];

        Assert.Equal(new Period(2026, 11), PeriodRules.BookingPeriod(new Period(2026, 8), closed));
        Assert.Equal(new Period(2024, 1), PeriodRules.BookingPeriod(new Period(2024, 1), []));
    }

    [Fact]
    public void ClosingTheCurrentMonth_IsRefusedUntilItIsOverInParis()
    {
        // 30 November 23:30 UTC is already 1 December in Paris: November is over.
        var closure = PeriodClosure.Close("club", new Period(2026, 11), new DateTimeOffset(2026, 11, 30, 23, 30, 0, TimeSpan.Zero));
        Assert.Equal(new Period(2026, 11), closure.Period);

        var error = Assert.Throws<DomainException>(() =>
            PeriodClosure.Close("club", new Period(2026, 11), new DateTimeOffset(2026, 11, 30, 22, 30, 0, TimeSpan.Zero)));
        Assert.Equal("period", error.Field);
    }
}
