#!/usr/bin/env bash
# Adds one EF Core migration to every provider at once, so the three schemas never drift apart.
# Usage: bash tools/add-migration.sh NAME
#   1. change the model (src/HlmHub.Domain, src/HlmHub.Storage/Configuration) first;
#   2. run this: it generates Migrations/<timestamp>_NAME.cs in src/HlmHub.Storage.Migrations.{Sqlite,Postgres,SqlServer};
#   3. add any provider-specific DDL (triggers, guards) to each generated migration by hand (see docs/storage.md);
#   4. run the storage tests: each provider's migrations must match the model.
# dotnet-ef is pinned in .config/dotnet-tools.json; no database is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -ne 1 ] || [[ ! "$1" =~ ^[A-Z][A-Za-z0-9]*$ ]]; then
    echo "usage: bash tools/add-migration.sh NAME   (NAME in PascalCase, e.g. RosterSessions)" >&2
    exit 2
fi
name="$1"

dotnet tool restore >/dev/null
providers=(Sqlite Postgres SqlServer)
for provider in "${providers[@]}"; do
    project="src/HlmHub.Storage.Migrations.$provider"
    if compgen -G "$project/Migrations/*_$name.cs" >/dev/null; then
        echo "add-migration.sh: $project already has a migration named $name" >&2
        exit 1
    fi
done

# Build once; each `dotnet ef` call below then only loads the assemblies.
dotnet build src/HlmHub.Storage.Migrations.SqlServer -c Debug -v q -nologo >/dev/null
dotnet build src/HlmHub.Storage.Migrations.Postgres -c Debug -v q -nologo >/dev/null
dotnet build src/HlmHub.Storage.Migrations.Sqlite -c Debug -v q -nologo >/dev/null

for provider in "${providers[@]}"; do
    project="src/HlmHub.Storage.Migrations.$provider"
    echo "add-migration.sh: $provider"
    # The migrations project is its own start-up project: its DesignTimeContextFactory configures the provider.
    dotnet tool run dotnet-ef migrations add "$name" \
        --project "$project" --startup-project "$project" \
        --output-dir Migrations \
        --no-build
done
echo "add-migration.sh: added $name to ${providers[*]}; add provider-specific DDL if the change needs any, then run the storage tests."
