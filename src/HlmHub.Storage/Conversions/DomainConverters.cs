using System.Globalization;
using HlmHub.Domain;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HlmHub.Storage.Conversions;

/// <summary>Money is stored as its <c>long</c> number of cents: exact, and summable in SQL on every provider.</summary>
internal sealed class MoneyConverter() : ValueConverter<Money, long>(money => money.Cents, cents => new Money(cents));

/// <summary>A period is stored as the integer <c>yyyymm</c>, which sorts and compares like the months it names.</summary>
internal sealed class PeriodConverter() : ValueConverter<Period, int>(period => period.Key, key => Period.FromKey(key));

/// <summary>
/// An offer version's room tariffs are stored in one text column, "rooms:negotiated:public" in cents separated
/// by ";" (e.g. "1:9000:21000;3:13000:28000"): they are always read with their version, never queried alone.
/// </summary>
internal sealed class RoomTariffsConverter()
    : ValueConverter<IReadOnlyList<RoomTariff>, string>(tariffs => Format(tariffs), text => Parse(text))
{
    private static string Format(IReadOnlyList<RoomTariff> tariffs) => string.Join(
        ';',
        tariffs.Select(tariff => string.Create(
            CultureInfo.InvariantCulture,
            $"{tariff.Rooms}:{tariff.NegotiatedPremium.Cents}:{tariff.PublicPremium.Cents}")));

    private static List<RoomTariff> Parse(string text) =>
        text.Length == 0
            ? []
            : [.. text.Split(';').Select(part =>
            {
                var fields = part.Split(':');
                return new RoomTariff(
                    int.Parse(fields[0], CultureInfo.InvariantCulture),
                    new Money(long.Parse(fields[1], CultureInfo.InvariantCulture)),
                    new Money(long.Parse(fields[2], CultureInfo.InvariantCulture)));
            })];
}

/// <summary>Compares room-tariff lists by content, so EF Core detects a change (and the database refuses it).</summary>
internal sealed class RoomTariffsComparer()
    : ValueComparer<IReadOnlyList<RoomTariff>>(
        (left, right) => left != null && right != null && left.SequenceEqual(right),
        tariffs => tariffs.Aggregate(0, (hash, tariff) => HashCode.Combine(hash, tariff)),
        tariffs => tariffs.ToList());
