using FailureSynth.Backends;
using FailureSynth.Events;
using FailureSynth.Messaging;
using FailureSynth.Teacher;

// The Teacher service: locates the first wrong step of failures, names the missing skill, proposes samples.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddLoopService("teacher", concurrentHandlers: 8)
    .AddSubscription<FailureCollected, LocateHandler>()
    .AddSubscription<DiagnosisRequested, DiagnoseHandler>()
    .AddSubscription<SynthesisRequested, ProposeHandler>()
    .AddSubscription<RetrievalRequested, RetrieveHandler>();
builder.Services.AddSingleton<PoolCache>();
// The teacher: Backends:Teacher (semantic-kernel, its calls cached in Redis) when configured, else each request's embedded teacher.
builder.Services.AddServiceBackends(builder.Configuration);
builder.Services.AddSingleton(sp => new TeacherSource(sp.GetRequiredService<ServiceBackends>(), sp.GetRequiredService<TeacherPool>().Get));
builder.Services.AddSingleton(sp => new TeacherCalls(new FailureSynth.Caching.RedisCallCache(
    sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase(), "fs:teacher:", sp.GetRequiredService<ILogger<TeacherCalls>>())));

var app = builder.Build();
app.Services.GetRequiredService<ServiceBackends>(); // a bad Backends section stops the service at start, naming the key
app.MapDefaultEndpoints();
app.Run();
