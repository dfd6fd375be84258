using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using HlmHub.Cli.Output;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary><c>hlmhub demo seed</c>: the hub's demo data and clients, as <c>--seed-demo</c> seeds them.</summary>
internal static class DemoCommands
{
    public const string DefaultCredentialsFile = "demo-clients.json";

    public static Command Create(CliContext context)
    {
        var demo = new Command("demo", "The demo club (hub administrators only)");
        demo.Subcommands.Add(Seed(context));
        return demo;
    }

    private static Command Seed(CliContext context)
    {
        var file = new Option<FileInfo>("--credentials-file")
        {
            Description = $"Where to write the demo clients' credentials (mode 0600; an older file's other entries are kept) [default: ./{DefaultCredentialsFile}]",
            DefaultValueFactory = _ => new FileInfo(DefaultCredentialsFile),
        };
        var command = new Command("seed", "Seeds the demo club, its partners, households and clients; a second run adds nothing") { file };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var target = parse.GetRequiredValue(file);
            // Read and prepared before the seed: a file that cannot be read or written fails before the hub issues
            // secrets to go in it.
            var older = ReadOlder(target.FullName);
            var olderIds = (older?["clients"] as JsonArray ?? []).Select(ClientId).OfType<string>().ToHashSet(StringComparer.Ordinal);
            using var credentials = OwnerOnlyFile.Prepare(target.FullName);
            var seeded = await session.CallAsync(options => session.Demo.SeedDemoAsync(new V1.SeedDemoRequest(), options), cancellationToken);
            var path = credentials.Path;
            credentials.Commit(CredentialsJson(seeded, older));
            context.Output.WriteLine($"Demo club {seeded.ClubId}: {seeded.RecordsAdded} records and {seeded.ClientsRegistered} clients added.");
            foreach (var client in seeded.Clients)
            {
                context.Output.WriteLine($"  {client.Role,-10} {client.ClientId} ({client.Scope})");
            }

            context.Output.WriteLine($"Their credentials are in {path} (mode 0600).");
            if (seeded.LostClientIds.Count > 0)
            {
                return context.Fail(Lost(seeded.LostClientIds, olderIds, path, target.FullName == Path.GetFullPath(DefaultCredentialsFile)));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The one line for demo clients whose secret the hub no longer holds (its own demo-clients.json was deleted): which
    /// ones, that the file kept what it had for them, and the commands that give each a new secret the hub keeps for
    /// the next seed.
    /// </summary>
    private static CliException Lost(IReadOnlyList<string> lost, IReadOnlySet<string> olderIds, string path, bool defaultFile)
    {
        var kept = lost.Where(olderIds.Contains).ToList();
        var seed = defaultFile ? "hlmhub demo seed" : $"hlmhub demo seed --credentials-file '{path}'";
        var repair = string.Join(" && ", lost.Select(clientId => $"hlmhub clients rotate-secret {clientId}").Append(seed));
        var which = lost.Count == 1 ? $"the secret of demo client {lost[0]}" : $"the secrets of demo clients {string.Join(", ", lost)}";
        var keptFor = kept.Count < lost.Count ? string.Join(", ", kept) : lost.Count == 1 ? "it" : "them";
        var keptNote = kept.Count == 0 ? "" : $"; {path} still holds what it had for {keptFor}, valid unless rotated since";
        return new CliException(
            ExitCodes.Refused,
            $"the hub no longer holds {which} (its own demo-clients.json was deleted){keptNote}. For new secrets the hub keeps, run: {repair}");
    }

    /// <summary>The file already at <paramref name="path"/>, whose entries the seed must not lose; null if there is none.</summary>
    private static JsonObject? ReadOlder(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject content && content["clients"] is null or JsonArray)
            {
                return content;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot read {path}: {exception.Message}");
        }
        catch (JsonException)
        {
            // Not JSON: refused below, like JSON of another shape.
        }

        // Replacing it could destroy secrets kept in a shape this command does not know.
        throw new CliException(ExitCodes.Usage, $"{path} is not a demo credentials file: move it away, or write to another --credentials-file");
    }

    /// <summary>
    /// The same shape as the hub's own data/demo-clients.json, so either file serves the same scripts. Merged into the
    /// older file: the hub's entries replace those of the same clients, every other entry stays (a client whose secret
    /// the hub no longer holds keeps the one this file had: the only copy may be here).
    /// </summary>
    private static byte[] CredentialsJson(V1.SeedDemoResponse seeded, JsonObject? older)
    {
        var content = older ?? [];
        var entries = content["clients"] as JsonArray ?? [];
        content.Remove("clients");
        if (seeded.TokenEndpoint.Length > 0)
        {
            content["token_endpoint"] = seeded.TokenEndpoint;
        }

        foreach (var client in seeded.Clients)
        {
            var entry = new JsonObject
            {
                ["role"] = client.Role,
                ["client_id"] = client.ClientId,
                ["client_secret"] = client.ClientSecret,
                ["scope"] = client.Scope,
            };
            AddIfPresent(entry, "partner_id", client.PartnerId);
            AddIfPresent(entry, "landlord_id", client.LandlordId);
            AddIfPresent(entry, "club_id", client.ClubId);
            var at = entries.Select(ClientId).ToList().IndexOf(client.ClientId);
            if (at >= 0)
            {
                entries[at] = entry;
            }
            else
            {
                entries.Add(entry);
            }
        }

        content["clients"] = entries;
        return JsonSerializer.SerializeToUtf8Bytes(content, JsonFiles.Indented);
    }

    private static string? ClientId(JsonNode? entry) =>
        entry is JsonObject client && client["client_id"] is JsonValue id && id.TryGetValue<string>(out var value) ? value : null;

    private static void AddIfPresent(JsonObject entry, string name, string value)
    {
        if (value.Length > 0)
        {
            entry[name] = value;
        }
    }
}
