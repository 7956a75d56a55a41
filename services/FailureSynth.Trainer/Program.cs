using FailureSynth.Backends;
using FailureSynth.Events;
using FailureSynth.Messaging;
using FailureSynth.Trainer;

// The Trainer service: runs campaigns (one active trainer per campaign), hands stage work to the other services
// over the bus, trains, evaluates, promotes, writes checkpoints, the dataset and the report; serves the campaign API.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
// The students' engine: Student:Engine (managed | torchsharp) and Student:Device (auto | cpu | cuda); docs/engines.md.
FailureSynth.TinyVlm.Torch.StudentEngineSetup.Configure(builder.Configuration[FailureSynth.TinyVlm.Torch.StudentEngineSetup.EngineKey],
    builder.Configuration[FailureSynth.TinyVlm.Torch.StudentEngineSetup.DeviceKey], Environment.ProcessorCount);
builder.AddLoopService("trainer", concurrentHandlers: 8)
    .AddSubscription<EvaluationAnswered, ReplyHandlers>()
    .AddSubscription<StepLocated, ReplyHandlers>()
    .AddSubscription<SkillDiagnosed, ReplyHandlers>()
    .AddSubscription<SynthesisProposed, ReplyHandlers>()
    .AddSubscription<SampleChecked, ReplyHandlers>()
    .AddSubscription<SampleBatchChecked, ReplyHandlers>()
    .AddSubscription<SamplesRetrieved, ReplyHandlers>();
builder.Services.AddSingleton<ReplyRouter>();
builder.Services.AddSingleton<CampaignManager>();
// The deployment's backends (Backends:Teacher, Backends:Student): campaigns asking for others are refused.
builder.Services.AddServiceBackends(builder.Configuration);
builder.Services.AddSingleton<SynthesisBench>();
builder.Services.AddOpenApi();

builder.AddCampaignApiSecurity();

// Never through ILogger: logs leave the process over OTLP.
string apiKey = CampaignApiKey.FromConfiguration(builder.Configuration, Console.Out);
var app = builder.Build();
app.UseCampaignApiSecurity();
app.MapDefaultEndpoints();
app.MapOpenApi(); // /openapi/v1.json: the campaign API described (the document needs no key)
app.MapCampaignApi(apiKey);
app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<CampaignManager>().LoadAndResume());
app.Run();
