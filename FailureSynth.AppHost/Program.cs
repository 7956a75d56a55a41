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
string runDirectory = RunDirectory.Prepare(builder, command);
string dataRoot = Path.Combine(runDirectory, "files");
var infrastructure = builder.ChooseInfrastructure();
// The campaign API's key: FailureSynth:ApiKey or FAILURESYNTH_API_KEY when set, else a new one per run.
string apiKey = (builder.Configuration["FailureSynth:ApiKey"] ?? Environment.GetEnvironmentVariable("FAILURESYNTH_API_KEY")) is { Length: >= 16 } chosen
    ? chosen
    : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

var messaging = builder.AddMessaging("messaging", infrastructure, runDirectory);   // RabbitMQ
var cache = builder.AddCache("cache", infrastructure, runDirectory);               // Redis

if (builder.Configuration["FailureSynth:Services"] != "none") // none: the broker and the cache alone (the bus and cache tests use that)
{
    var student = builder.AddService<Projects.FailureSynth_Student>("student", command, dataRoot).Needs(messaging, cache);
    var teacher = builder.AddService<Projects.FailureSynth_Teacher>("teacher", command, dataRoot).Needs(messaging, cache);
    var imageSynth = builder.AddService<Projects.FailureSynth_ImageSynth>("imagesynth", command, dataRoot).Needs(messaging, cache);
    var qualityFilter = builder.AddService<Projects.FailureSynth_QualityFilter>("qualityfilter", command, dataRoot).Needs(messaging, cache);
    builder.AddService<Projects.FailureSynth_Trainer>("trainer", command, dataRoot).Needs(messaging, cache)
        .WithEnvironment("FailureSynth__ApiKey", apiKey)
        .WithEnvironment("FailureSynth__ConfigRoot", Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."))) // campaign paths are relative to the repository
        .WithReference(student).WithReference(teacher).WithReference(imageSynth).WithReference(qualityFilter)
        .WithCampaignCommands(apiKey);   // dashboard: start the demo campaign, cancel the running one
}

await using var app = builder.Build();
return await CommandRunner.RunAsync(app, command, apiKey);
