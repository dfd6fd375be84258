using System.CommandLine;
using System.Text.Json;
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
            Description = $"Where to write the demo clients' credentials (mode 0600) [default: ./{DefaultCredentialsFile}]",
            DefaultValueFactory = _ => new FileInfo(DefaultCredentialsFile),
        };
        var command = new Command("seed", "Seeds the demo club, its partners, households and clients; a second run adds nothing") { file };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            // Prepared before the seed: a file that cannot be written fails before the hub issues secrets to go in it.
            using var credentials = OwnerOnlyFile.Prepare(parse.GetRequiredValue(file).FullName);
            var seeded = await session.CallAsync(options => session.Demo.SeedDemoAsync(new V1.SeedDemoRequest(), options), cancellationToken);
            var path = credentials.Path;
            credentials.Commit(CredentialsJson(seeded));
            context.Output.WriteLine($"Demo club {seeded.ClubId}: {seeded.RecordsAdded} records and {seeded.ClientsRegistered} clients added.");
            foreach (var client in seeded.Clients)
            {
                context.Output.WriteLine($"  {client.Role,-10} {client.ClientId} ({client.Scope})");
            }

            context.Output.WriteLine($"Their credentials are in {path} (mode 0600).");
            foreach (var lost in seeded.LostClientIds)
            {
                context.Error.WriteLine($"hlmhub: the secret of demo client {lost} was lost on the hub: run 'hlmhub clients rotate-secret {lost}' for a new one");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    // The same shape as the hub's own data/demo-clients.json, so either file serves the same scripts.
    private static byte[] CredentialsJson(V1.SeedDemoResponse seeded)
    {
        var clients = seeded.Clients.Select(client =>
        {
            var entry = new Dictionary<string, string>
            {
                ["role"] = client.Role,
                ["client_id"] = client.ClientId,
                ["client_secret"] = client.ClientSecret,
                ["scope"] = client.Scope,
            };
            AddIfPresent(entry, "partner_id", client.PartnerId);
            AddIfPresent(entry, "landlord_id", client.LandlordId);
            AddIfPresent(entry, "club_id", client.ClubId);
            return entry;
        }).ToList();
        var content = new Dictionary<string, object>();
        if (seeded.TokenEndpoint.Length > 0)
        {
            content["token_endpoint"] = seeded.TokenEndpoint;
        }

        content["clients"] = clients;
        return JsonSerializer.SerializeToUtf8Bytes(content, JsonFiles.Indented);
    }

    private static void AddIfPresent(Dictionary<string, string> entry, string name, string value)
    {
        if (value.Length > 0)
        {
            entry[name] = value;
        }
    }
}
