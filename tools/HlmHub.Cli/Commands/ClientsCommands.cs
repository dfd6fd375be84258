using System.CommandLine;
using System.Text.Json;
using HlmHub.Cli.Connection;
using HlmHub.Cli.Output;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Commands;

/// <summary><c>hlmhub clients add|list|rotate-secret|disable</c>: the hub's OAuth clients (hub administrators only).</summary>
internal static class ClientsCommands
{
    public static Command Create(CliContext context)
    {
        var clients = new Command("clients", "OAuth clients of the hub's token issuer (hub administrators only)");
        clients.Subcommands.Add(Add(context));
        clients.Subcommands.Add(List(context));
        clients.Subcommands.Add(RotateSecret(context));
        clients.Subcommands.Add(Disable(context));
        return clients;
    }

    private static Command Add(CliContext context)
    {
        var kind = new Option<string>("--kind") { Description = "partner, landlord or admin", Required = true };
        kind.AcceptOnlyFromAmong("partner", "landlord", "admin");
        var name = new Option<string>("--name") { Description = "A display name", Required = true };
        var scopes = new Option<string[]>("--scope")
        {
            Description = "A scope the client may request (repeat for several), e.g. hlmhub.redemptions",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var partner = new Option<string?>("--partner") { Description = "The partner a partner client acts for" };
        var landlord = new Option<string?>("--landlord") { Description = "The landlord a landlord client acts for" };
        var club = new Option<string?>("--club") { Description = "The club an admin client administers (none: a hub administrator)" };
        var id = new Option<string?>("--id") { Description = "The client id (default: generated)" };
        var publicKey = new Option<FileInfo?>("--public-key-file") { Description = "The client's public JWK (JSON) for private_key_jwt, instead of a secret" };
        var secretFile = SecretFileOption();
        var command = new Command("add", "Registers a client; its secret is shown once (or written to --secret-file)")
        {
            kind, name, scopes, partner, landlord, club, id, publicKey, secretFile,
        };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.RegisterClientRequest
            {
                Kind = parse.GetRequiredValue(kind) switch
                {
                    "partner" => V1.ClientKind.Partner,
                    "landlord" => V1.ClientKind.Landlord,
                    _ => V1.ClientKind.Admin,
                },
                DisplayName = parse.GetRequiredValue(name),
                PartnerId = parse.GetValue(partner) ?? "",
                LandlordId = parse.GetValue(landlord) ?? "",
                ClubId = parse.GetValue(club) ?? "",
                ClientId = parse.GetValue(id) ?? "",
                PublicJwk = ReadPublicKey(parse.GetValue(publicKey)),
            };
            request.Scopes.AddRange(parse.GetRequiredValue(scopes));
            using var file = PrepareSecretFile(parse.GetValue(secretFile));
            var registered = await session.CallAsync(options => session.Admin.RegisterClientAsync(request, options), cancellationToken);
            WriteClients(context, [registered.Client], OutputFormat.Table);
            return HandOverSecret(context, session, registered, file);
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var format = Tabular.FormatOption();
        var command = new Command("list", "Lists the clients (never their secrets)") { format };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var clients = new List<V1.OAuthClient>();
            var page = "";
            do
            {
                var response = await session.CallAsync(
                    options => session.Admin.ListClientsAsync(new V1.ListClientsRequest { PageSize = 500, PageToken = page }, options), cancellationToken);
                clients.AddRange(response.Clients);
                page = response.NextPageToken;
            }
            while (page.Length > 0);
            WriteClients(context, clients, parse.GetValue(format));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RotateSecret(CliContext context)
    {
        var id = new Argument<string>("client-id") { Description = "The client whose secret to replace" };
        var secretFile = SecretFileOption();
        var command = new Command("rotate-secret", "Gives a client a new secret, shown once (or written to --secret-file); the old one, and the tokens got with it, stop working")
        {
            id, secretFile,
        };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.RotateClientSecretRequest { ClientId = parse.GetRequiredValue(id) };
            using var file = PrepareSecretFile(parse.GetValue(secretFile));
            var rotated = await session.CallAsync(options => session.Admin.RotateClientSecretAsync(request, options), cancellationToken);
            return HandOverSecret(context, session, rotated, file);
        });
        return command;
    }

    private static Command Disable(CliContext context)
    {
        var id = new Argument<string>("client-id") { Description = "The client to disable: it gets no new token" };
        var command = new Command("disable", "Disables a client: it gets no new token, and the tokens it holds stop working") { id };
        context.Run(command, async (parse, session, cancellationToken) =>
        {
            var request = new V1.DisableClientRequest { ClientId = parse.GetRequiredValue(id) };
            var client = await session.CallAsync(options => session.Admin.DisableClientAsync(request, options), cancellationToken);
            context.Output.WriteLine($"Disabled client {client.ClientId}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<FileInfo?> SecretFileOption() => new("--secret-file")
    {
        Description = "Write the client id and secret to this file (mode 0600, replacing an older one) instead of showing the secret",
    };

    // Before the call: a file that cannot be written must fail before the hub issues a secret it cannot show again.
    private static OwnerOnlyFile? PrepareSecretFile(FileInfo? secretFile) => secretFile is null ? null : OwnerOnlyFile.Prepare(secretFile.FullName);

    private static string ReadPublicKey(FileInfo? file)
    {
        if (file is null)
        {
            return "";
        }

        try
        {
            return File.ReadAllText(file.FullName);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"cannot read the public key file {file.FullName}: {exception.Message}");
        }
    }

    private static int HandOverSecret(CliContext context, HubSession session, V1.RegisteredClient client, OwnerOnlyFile? secretFile)
    {
        if (client.ClientSecret.Length == 0)
        {
            context.Output.WriteLine($"Client {client.Client.ClientId} authenticates with its public key (private_key_jwt).");
            return ExitCodes.Ok;
        }

        if (secretFile is not null)
        {
            var content = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["client_id"] = client.Client.ClientId,
                ["client_secret"] = client.ClientSecret,
                ["hub_url"] = session.Settings.HubUrl.AbsoluteUri,
            }, JsonFiles.Indented);
            try
            {
                secretFile.Commit(content);
            }
            catch (Exception failure)
            {
                // The file was writable before the call (OwnerOnlyFile.Prepare), yet the write failed after it (a full
                // disk, the directory removed meanwhile): the hub has issued the secret and keeps only its hash, so
                // this is the last place it exists. Whatever the failure (a file too large for its limit is an
                // ArgumentOutOfRangeException, not an IOException), the secret goes to standard error, and the exit
                // code says the file was not written.
                context.Error.WriteLine($"hlmhub: {(failure is CliException ? failure.Message : $"cannot write {secretFile.Path}: {failure.Message}")}; the secret of {client.Client.ClientId} was issued all the same: "
                    + "store it now from the two lines below (the hub keeps only its hash and cannot show it again)");
                context.Error.WriteLine($"client_id: {client.Client.ClientId}");
                context.Error.WriteLine($"client_secret: {client.ClientSecret}");
                return ExitCodes.Usage;
            }

            context.Output.WriteLine($"The secret of {client.Client.ClientId} is in {secretFile.Path} (mode 0600); it is not shown again.");
            return ExitCodes.Ok;
        }

        // The one time the secret exists in clear: the person registering asked for it.
        context.Output.WriteLine($"client_id: {client.Client.ClientId}");
        context.Output.WriteLine($"client_secret: {client.ClientSecret}");
        context.Error.WriteLine("hlmhub: store this secret now: the hub keeps only its hash and cannot show it again.");
        return ExitCodes.Ok;
    }

    private static void WriteClients(CliContext context, IEnumerable<V1.OAuthClient> clients, OutputFormat format)
    {
        var rows = new Tabular("OAuth clients", [
            new("client_id"), new("kind"), new("display_name"), new("bound_to"), new("scopes"), new("credential"), new("created_at"), new("disabled_at"),
        ]);
        foreach (var client in clients)
        {
            var boundTo = client.Kind switch
            {
                V1.ClientKind.Partner => "partner " + client.PartnerId,
                V1.ClientKind.Landlord => "landlord " + client.LandlordId,
                _ => client.ClubId.Length > 0 ? "club " + client.ClubId : "hub",
            };
            rows.Add(
                client.ClientId,
                client.Kind.ToString().ToLowerInvariant(),
                client.DisplayName,
                boundTo,
                string.Join(' ', client.Scopes),
                client.UsesPublicKey ? "public key" : "secret",
                Names.Of(client.CreatedAt),
                Names.Of(client.DisabledAt));
        }

        rows.Write(format, context.Console, context.Output);
    }
}
