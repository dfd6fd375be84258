using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace HlmHub.Cli.Output;

/// <summary>How a command prints rows: a table for people, CSV or JSON for scripts.</summary>
internal enum OutputFormat
{
    Table,
    Csv,
    Json,
}

/// <summary>What a column holds: machine formats print cents as integers, the table as euros.</summary>
internal enum ColumnKind
{
    Text,
    Number,
    Cents,
    Flag,
}

internal sealed record Column(string Name, ColumnKind Kind = ColumnKind.Text);

/// <summary>
/// Rows with named, typed columns, written in the format asked: a Spectre.Console table; CSV (RFC 4180, a header
/// line, invariant culture, cents as integers); or JSON (an array of objects keyed by column name, numbers as
/// numbers). The names are snake_case so scripts read the same keys in CSV and JSON.
/// </summary>
internal sealed class Tabular(string title, IReadOnlyList<Column> columns)
{
    private readonly List<object?[]> _rows = [];

    public int Count => _rows.Count;

    public static Option<OutputFormat> FormatOption() => new("--format")
    {
        Description = "table (default), csv or json",
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public void Add(params object?[] values)
    {
        if (values.Length != columns.Count)
        {
            throw new ArgumentException($"{values.Length} values for {columns.Count} columns.", nameof(values));
        }

        _rows.Add(values);
    }

    public void Write(OutputFormat format, IAnsiConsole console, TextWriter output)
    {
        switch (format)
        {
            case OutputFormat.Csv:
                WriteCsv(output);
                break;
            case OutputFormat.Json:
                output.WriteLine(ToJson());
                break;
            default:
                console.Write(ToTable());
                break;
        }
    }

    public Table ToTable()
    {
        var table = new Table { Title = new TableTitle(Markup.Escape(title)) };
        foreach (var column in columns)
        {
            var tableColumn = new TableColumn(Markup.Escape(column.Name.Replace("_cents", "", StringComparison.Ordinal).Replace('_', ' ')));
            if (column.Kind is ColumnKind.Number or ColumnKind.Cents)
            {
                tableColumn.RightAligned();
            }

            table.AddColumn(tableColumn);
        }

        foreach (var row in _rows)
        {
            table.AddRow([.. row.Select((value, index) => Markup.Escape(Display(columns[index].Kind, value)))]);
        }

        if (_rows.Count == 0)
        {
            table.Caption = new TableTitle("(none)");
        }

        return table;
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            WriteRows(json);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private void WriteObject(Utf8JsonWriter json, object?[] row)
    {
        json.WriteStartObject();
        for (var index = 0; index < columns.Count; index++)
        {
            json.WritePropertyName(columns[index].Name);
            switch (row[index])
            {
                case null:
                    json.WriteNullValue();
                    break;
                case long number:
                    json.WriteNumberValue(number);
                    break;
                case int number:
                    json.WriteNumberValue(number);
                    break;
                case bool flag:
                    json.WriteBooleanValue(flag);
                    break;
                default:
                    json.WriteStringValue(Invariant(row[index]));
                    break;
            }
        }

        json.WriteEndObject();
    }

    /// <summary>The rows as written by <see cref="WriteObject"/>, for a JSON document with more than one list.</summary>
    public void WriteRows(Utf8JsonWriter json)
    {
        json.WriteStartArray();
        foreach (var row in _rows)
        {
            WriteObject(json, row);
        }

        json.WriteEndArray();
    }

    private void WriteCsv(TextWriter output)
    {
        output.Write(string.Join(',', columns.Select(column => Csv(column.Name))));
        output.Write("\r\n");
        foreach (var row in _rows)
        {
            output.Write(string.Join(',', row.Select((value, index) => Csv(columns[index].Kind == ColumnKind.Text ? Inert(Invariant(value)) : Invariant(value)))));
            output.Write("\r\n");
        }
    }

    /// <summary>Euros with two decimals and the euro sign, for people.</summary>
    public static string Euros(long cents) =>
        (cents / 100m).ToString("#,##0.00", CultureInfo.InvariantCulture) + " €";

    private static string Display(ColumnKind kind, object? value) => (kind, value) switch
    {
        (_, null) => "",
        (ColumnKind.Cents, long cents) => Euros(cents),
        (ColumnKind.Flag, bool flag) => flag ? "yes" : "no",
        (ColumnKind.Number, long number) => number.ToString("#,##0", CultureInfo.InvariantCulture),
        _ => Invariant(value),
    };

    private static string Invariant(object? value) => value switch
    {
        null => "",
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>
    /// A text cell a spreadsheet would run as a formula (it begins with = + - @, a tab or a carriage return) gets a
    /// leading apostrophe: text that others chose reaches the reports (a partner's event ids, display names), and
    /// opening a CSV must not run it. Numbers and amounts have columns of their own and are left as they are.
    /// </summary>
    private static string Inert(string text) =>
        text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
