using System.Globalization;
using FailureSynth.AppHost;
using FailureSynth.Hosting;

// The AppHost models the system the way an Aspire AppHost does (ARCHITECTURE §6) and starts it as local
// processes: RabbitMQ ("messaging") and Redis ("cache") with their own data folders, free ports and generated
// passwords, then the five services, each waiting for what it needs. Every service shares one data root
// (<run dir>/files) for images, checkpoints and campaign folders.
//
//   dotnet run --project FailureSynth.AppHost                                   bring the system up; Ctrl+C stops it
//   dotnet run --project FailureSynth.AppHost -- run CAMPAIGN.yaml --out DIR    run one campaign through it, then stop
//   dotnet run --project FailureSynth.AppHost -- bench-synthesis [--proposals N] synthesis throughput through the services
//   --replicas NAME=N (repeatable) sets a service's replica count (e.g. imagesynth=3);
//   run ... --fault STAGE=ACTION injects a fault midway (see Fault).
var options = DistributedApplicationOptions.FromArgs(args);
AppHostCommand command;
try
{
    command = AppHostCommand.Parse(options.Args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"FailureSynth.AppHost: {e.Message}\n{AppHostCommand.Usage}");
    return 1;
}

string repository = Repository.Root();
string invokedFrom = Directory.GetCurrentDirectory();
options = options with
{
    ProjectDirectory = repository,
    RunDirectory = options.RunDirectory ?? Path.Combine(command.OutputDirectory ?? Path.Combine(repository, "out", "apphost"),
        command.OutputDirectory is null ? DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) : ".apphost"),
    StartTimeout = options.StartTimeout < TimeSpan.FromMinutes(3) ? TimeSpan.FromMinutes(3) : options.StartTimeout,
};
// A run owns DIR/.apphost: what an earlier run left there (broker and Redis data, checkpoints, logs) is replaced.
if (command.Kind == "run" && Path.GetFileName(options.RunDirectory) == ".apphost" && Directory.Exists(options.RunDirectory))
    Directory.Delete(options.RunDirectory, recursive: true);
string dataRoot = Path.Combine(options.RunDirectory!, "files");
// The campaign API's key: FAILURESYNTH_API_KEY when set, else a new one per run (printed once the Trainer is up).
string apiKey = Environment.GetEnvironmentVariable("FAILURESYNTH_API_KEY") is { Length: >= 16 } chosen
    ? chosen
    : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

var builder = DistributedApplication.CreateBuilder(options);
var messaging = builder.AddRabbitMQ("messaging");
var cache = builder.AddRedis("cache");

IResourceBuilder<ProjectResource> Service(string name, string project) => builder
    .AddProject(name, $"services/{project}/{project}.csproj")
    .WithHttpEndpoint()
    .WithReplicas(command.Replicas.TryGetValue(name, out int n) ? n : 1)
    .WithReference(messaging).WithReference(cache)
    .WaitFor(messaging).WaitFor(cache)
    .WithEnvironment("FailureSynth__DataRoot", dataRoot)
    .WithRestartPolicy(RestartPolicy.OnFailure(maxRestarts: 10));

var student = Service("student", "FailureSynth.Student");
var teacher = Service("teacher", "FailureSynth.Teacher");
var imageSynth = Service("imagesynth", "FailureSynth.ImageSynth");
var qualityFilter = Service("qualityfilter", "FailureSynth.QualityFilter");
Service("trainer", "FailureSynth.Trainer")
    .WithEnvironment("FailureSynth__ApiKey", apiKey)
    .WithEnvironment("FailureSynth__ConfigRoot", invokedFrom)
    .WithReference(student).WithReference(teacher).WithReference(imageSynth).WithReference(qualityFilter);

await using var app = builder.Build();
app.StatusChanged += status => Console.WriteLine(
    $"[apphost] {status.Resource}-{status.Replica}: {status.State}{(status.ProcessId is { } pid ? $" (pid {pid})" : "")}{(status.Restarts > 0 ? $" restarts {status.Restarts}" : "")}{(string.IsNullOrEmpty(status.Detail) ? "" : " " + status.Detail)}");

try
{
    switch (command.Kind)
    {
        case "up":
            Console.WriteLine($"[apphost] starting messaging, cache and the services in {app.RunDirectory}. Ctrl+C stops everything.");
            bool announced = false;
            app.StatusChanged += status =>
            {
                if (announced || status is not { Resource: "trainer", State: ReplicaState.Healthy, Endpoint: { } endpoint }) return;
                announced = true;
                Console.WriteLine($"[apphost] campaign API: {endpoint} (header X-Api-Key: {apiKey}), e.g.\n" +
                    $"  curl -H 'X-Api-Key: {apiKey}' -H 'Content-Type: application/yaml' --data-binary @campaigns/demo.yaml {endpoint}campaigns");
            };
            await app.RunAsync();
            return 0;
        default:
            using (var stop = new CancellationTokenSource())
            {
                ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
                Console.CancelKeyPress += onCancel;
                try
                {
                    Console.WriteLine($"[apphost] starting the system in {app.RunDirectory} (service output in {Path.Combine(app.RunDirectory, "logs")})");
                    await app.StartAsync(stop.Token);
                    var client = new CampaignClient(app.GetEndpoint("trainer") ?? throw new DistributedApplicationException("The trainer has no HTTP endpoint."), apiKey);
                    if (command.Kind != "run") return await client.BenchSynthesisAsync(command.Proposals, command.Replicas, stop.Token);
                    int code = await client.RunAsync(command.CampaignFile!, command.OutputDirectory!, async (iteration, stage, done) =>
                    {
                        foreach (var fault in command.Faults.Where(f => !f.Done && f.IsDue(iteration, stage)))
                        {
                            Console.WriteLine($"[fault] {fault} (campaign at iteration {iteration} {stage}, {done} done)");
                            fault.Done = true;
                            await fault.InjectAsync(app, stop.Token);
                        }
                    }, stop.Token);
                    foreach (var fault in command.Faults.Where(f => !f.Done)) Console.WriteLine($"[fault] not injected ({fault}): the campaign never reported progress there");
                    await QueueReport.PrintAsync(app, stop.Token);
                    return code;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    Console.Error.WriteLine("[apphost] interrupted; stopping everything.");
                    return 130;
                }
                finally
                {
                    Console.CancelKeyPress -= onCancel;
                    await app.StopAsync();
                }
            }
    }
}
catch (DistributedApplicationException e)
{
    Console.Error.WriteLine($"FailureSynth.AppHost: {e.Message}");
    return 1;
}
