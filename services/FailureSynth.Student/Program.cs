using FailureSynth.Messaging;
using FailureSynth.Events;
using FailureSynth.Student;

// The Student service: answers evaluation batches with the checkpoint each request names (ARCHITECTURE §3).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddLoopService("student").AddSubscription<EvaluationRequested, EvaluationHandler>();
builder.Services.AddSingleton<StudentModels>();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapServedStudent();
app.Run();
