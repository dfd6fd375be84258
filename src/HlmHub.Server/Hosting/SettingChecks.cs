using Microsoft.Extensions.Options;

namespace HlmHub.Server.Hosting;

/// <summary>
/// Start-up checks of one configuration section, each failure one sentence naming the setting, the rule and the
/// value found (<c>Roster:MaxItemsPerBatch must be greater than 0 (it is 0)</c>): what an operator reads when the
/// hub refuses to start (<see cref="ConfigurationErrors"/>).
/// </summary>
internal sealed class SettingChecks(string section)
{
    private readonly List<string> _failures = [];

    public SettingChecks Positive(string name, long value) =>
        Rule(value > 0, name, $"must be greater than 0 (it is {value})");

    public SettingChecks NotNegative(string name, long value) =>
        Rule(value >= 0, name, $"must be 0 or more (it is {value})");

    public SettingChecks InRange(string name, long value, long min, long max) =>
        Rule(value >= min && value <= max, name, $"must be {min} to {max} (it is {value})");

    public SettingChecks Positive(string name, TimeSpan value) =>
        Rule(value > TimeSpan.Zero, name, $"must be a duration greater than zero, e.g. 00:00:30 (it is {value})");

    public SettingChecks NotNegative(string name, TimeSpan value) =>
        Rule(value >= TimeSpan.Zero, name, $"must be a duration of zero or more (it is {value})");

    public SettingChecks OneOf(string name, string value, params string[] allowed) =>
        Rule(allowed.Contains(value, StringComparer.Ordinal), name, $"must be one of {string.Join(", ", allowed.Select(item => item.Length == 0 ? "empty" : $"'{item}'"))} (it is '{value}')");

    public SettingChecks Rule(bool holds, string name, string rule)
    {
        if (!holds)
        {
            _failures.Add($"{section}:{name} {rule}");
        }

        return this;
    }

    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

/// <summary>Registers <see cref="SettingChecks"/> as the options' validator.</summary>
internal static class SettingChecksExtensions
{
    public static OptionsBuilder<TOptions> ValidateSettings<TOptions>(
        this OptionsBuilder<TOptions> builder, string section, Action<SettingChecks, TOptions> rules)
        where TOptions : class
    {
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new SettingsValidator<TOptions>(builder.Name, section, rules));
        return builder;
    }

    private sealed class SettingsValidator<TOptions>(string? optionsName, string section, Action<SettingChecks, TOptions> rules)
        : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            if (optionsName is not null && name != optionsName)
            {
                return ValidateOptionsResult.Skip;
            }

            var checks = new SettingChecks(section);
            rules(checks, options);
            return checks.Result;
        }
    }
}
