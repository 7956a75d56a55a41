using FailureSynth.Backends;
using FailureSynth.Events;
using FailureSynth.Messaging;
using FailureSynth.QualityFilter;

// The QualityFilter service: checks each rendered proposal (schema, answer re-executed on the scene, judge score).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddLoopService("qualityfilter", concurrentHandlers: 8)
    .AddSubscription<SampleBatchRendered, BatchCheckHandler>()
    .AddSubscription<SampleRendered, CheckHandler>(); // one proposal per message, from older senders
// The judge: Backends:Teacher (semantic-kernel, its calls cached in Redis) when configured, else each request's embedded teacher.
builder.Services.AddServiceBackends(builder.Configuration);
builder.Services.AddSingleton(sp => new TeacherSource(sp.GetRequiredService<ServiceBackends>(), sp.GetRequiredService<TeacherPool>().Get));

var app = builder.Build();
app.Services.GetRequiredService<ServiceBackends>(); // a bad Backends section stops the service at start, naming the key
app.MapDefaultEndpoints();
app.Run();
