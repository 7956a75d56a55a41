using FailureSynth.Events;
using FailureSynth.Messaging;
using FailureSynth.QualityFilter;

// The QualityFilter service: checks each rendered proposal (schema, answer re-executed on the scene, judge score).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddLoopService("qualityfilter", concurrentHandlers: 8)
    .AddSubscription<SampleBatchRendered, BatchCheckHandler>()
    .AddSubscription<SampleRendered, CheckHandler>(); // one proposal per message, from older senders

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
