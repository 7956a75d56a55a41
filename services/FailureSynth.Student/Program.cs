using FailureSynth.Messaging;
using FailureSynth.Backends;
using FailureSynth.Events;
using FailureSynth.Student;

// The Student service: answers evaluation batches with the checkpoint each request names (ARCHITECTURE §3).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
// The students' engine: Student:Engine (managed | torchsharp) and Student:Device (auto | cpu | cuda); docs/engines.md.
FailureSynth.TinyVlm.Torch.StudentEngineSetup.Configure(builder.Configuration[FailureSynth.TinyVlm.Torch.StudentEngineSetup.EngineKey],
    builder.Configuration[FailureSynth.TinyVlm.Torch.StudentEngineSetup.DeviceKey], Environment.ProcessorCount);
builder.AddLoopService("student").AddSubscription<EvaluationRequested, EvaluationHandler>();
builder.Services.AddSingleton<StudentModels>();
builder.AddServedStudent();
// The student: Backends:Student (openai: a served VLM) when configured, else each request's TinyVLM checkpoint.
builder.Services.AddStudentBackend(builder.Configuration);

var app = builder.Build();
app.Services.GetRequiredService<StudentBackend>(); // a bad Backends section stops the service at start, naming the key
app.MapDefaultEndpoints();
app.MapServedStudent();
app.Run();
