using FailureSynth.Hosting;

// The AppHost models the system the way an Aspire AppHost does (ARCHITECTURE §6) and starts it as
// local processes. Today it brings up the infrastructure the services will use — RabbitMQ
// ("messaging") and Redis ("cache"), each with its own data folder, free port and generated
// password — and keeps it up until Ctrl+C. The five services and the campaign API are not built
// yet; a campaign therefore runs in-process through the `failuresynth` command, and
// `run CAMPAIGN.yaml` says so instead of pretending.
var builder = DistributedApplication.CreateBuilder(args);
var rest = builder.Options.Args;
if (rest.Count > 0 && rest[0] == "run")
{
    Console.Error.WriteLine(
        "FailureSynth.AppHost: running a campaign through the services is not available yet (the services are not built).\n" +
        "Run it in-process instead, with the same result files:\n" +
        $"  dotnet run --project tools/FailureSynth.Cli -c Release -- campaign run --config {(rest.Count > 1 ? rest[1] : "campaigns/demo.yaml")} --out out/demo");
    return 2;
}
if (rest.Count > 0)
{
    Console.Error.WriteLine($"FailureSynth.AppHost: unknown argument '{rest[0]}'. Usage: dotnet run --project FailureSynth.AppHost [-- --run-dir DIR] (Ctrl+C stops everything).");
    return 1;
}

builder.AddRabbitMQ("messaging");
builder.AddRedis("cache");
var app = builder.Build();
app.StatusChanged += status => Console.WriteLine(
    $"[apphost] {status.Resource}-{status.Replica}: {status.State}{(status.ProcessId is { } pid ? $" (pid {pid})" : "")}{(string.IsNullOrEmpty(status.Detail) ? "" : " " + status.Detail)}");
Console.WriteLine($"[apphost] starting messaging (rabbitmq-server) and cache (redis-server) in {app.RunDirectory}; the services are not built yet. Ctrl+C stops everything.");
try
{
    await app.RunAsync();
    return 0;
}
catch (DistributedApplicationException e)
{
    Console.Error.WriteLine($"FailureSynth.AppHost: {e.Message}");
    return 1;
}
