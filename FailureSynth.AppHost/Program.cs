using FailureSynth.AppHost;

// FailureSynth as an Aspire application: the broker and the cache, and the five services of the loop, each
// waiting for what it needs. The dashboard (URL and login token printed at start) shows resources, logs, traces
// and metrics. See docs/operations.md.
if (AppHostCommand.WantsHelp(args))
{
    Console.WriteLine(AppHostCommand.Usage);
    return 0;
}
AppHostCommand command;
try
{
    command = AppHostCommand.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"FailureSynth.AppHost: {e.Message}\n{AppHostCommand.Usage}");
    return 1;
}

var builder = DistributedApplication.CreateBuilder([.. command.AspireArgs]);
double? traceSampling;
try
{
    traceSampling = TraceSampling.Parse(builder.Configuration[TraceSampling.SettingKey]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"FailureSynth.AppHost: {e.Message}");
    return 1;
}
// Publishing (--operation=publish --publisher=manifest, docs/deploy.md) describes the containers a platform runs:
// RabbitMQ and Redis as containers, the data root at /data (the images' volume), and the campaign API key as a secret
// parameter, so that the manifest holds nothing of this machine and no secret.
bool publishing = builder.ExecutionContext.IsPublishMode;
string runDirectory = publishing ? "" : RunDirectory.Prepare(builder, command);
string dataRoot = publishing ? ContainerPaths.DataRoot : Path.Combine(runDirectory, "files");
var infrastructure = publishing ? InfrastructureKind.Containers : builder.ChooseInfrastructure();
// The campaign API's key: FailureSynth:ApiKey or FAILURESYNTH_API_KEY when set, else a new one per run.
string apiKey = (builder.Configuration["FailureSynth:ApiKey"] ?? Environment.GetEnvironmentVariable("FAILURESYNTH_API_KEY")) is { Length: >= 16 } chosen
    ? chosen
    : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

var messaging = builder.AddMessaging("messaging", infrastructure, runDirectory);   // RabbitMQ
var cache = builder.AddCache("cache", infrastructure, runDirectory);               // Redis

if (builder.Configuration["FailureSynth:Services"] != "none") // none: the broker and the cache alone (the bus and cache tests use that)
{
    var student = builder.AddService<Projects.FailureSynth_Student>("student", command, dataRoot, traceSampling).Needs(messaging, cache);
    var teacher = builder.AddService<Projects.FailureSynth_Teacher>("teacher", command, dataRoot, traceSampling).Needs(messaging, cache);
    var imageSynth = builder.AddService<Projects.FailureSynth_ImageSynth>("imagesynth", command, dataRoot, traceSampling).Needs(messaging, cache);
    var qualityFilter = builder.AddService<Projects.FailureSynth_QualityFilter>("qualityfilter", command, dataRoot, traceSampling).Needs(messaging, cache);
    builder.AddService<Projects.FailureSynth_Trainer>("trainer", command, dataRoot, traceSampling).Needs(messaging, cache)
        .WithApiKey(publishing ? null : apiKey)
        // Campaign paths are relative to the repository here, and to the data root in a container.
        .WithEnvironment("FailureSynth__ConfigRoot", publishing ? ContainerPaths.DataRoot : Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..")))
        .WithReference(student).WithReference(teacher).WithReference(imageSynth).WithReference(qualityFilter)
        .WithCampaignCommands(apiKey);   // dashboard: start the demo campaign, cancel the running one
}

await using var app = builder.Build();
return await CommandRunner.RunAsync(app, command, apiKey);
