using System.Linq.Expressions;
using HlmHub.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query.SqlExpressions;

namespace HlmHub.Storage.Internal;

internal static class StorageFunctionTranslations
{
    public static void Register(ModelBuilder modelBuilder)
    {
        foreach (var parameterType in new[] { typeof(Money), typeof(Money?) })
        {
            var method = typeof(StorageFunctions).GetMethod(nameof(StorageFunctions.Cents), [parameterType])!;
            // The column already holds cents: re-type it as a number (a CAST both providers understand).
            modelBuilder.HasDbFunction(method).HasTranslation(arguments =>
                new SqlUnaryExpression(ExpressionType.Convert, arguments[0], method.ReturnType, null));
        }

        var periodKey = typeof(StorageFunctions).GetMethod(nameof(StorageFunctions.PeriodKey), [typeof(Period)])!;
        // The column already holds yyyymm.
        modelBuilder.HasDbFunction(periodKey).HasTranslation(arguments =>
            new SqlUnaryExpression(ExpressionType.Convert, arguments[0], periodKey.ReturnType, null));
    }
}
