using FailureSynth.Events;
using FailureSynth.ImageSynth;
using FailureSynth.Messaging;

// The ImageSynth service: renders proposed scenes to PNG files under the data root, named by their SHA-256.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddLoopService("imagesynth", concurrentHandlers: 8)
    .AddSubscription<SampleBatchProposed, BatchRenderHandler>()
    .AddSubscription<SampleProposed, RenderHandler>(); // one proposal per message, from older senders

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
