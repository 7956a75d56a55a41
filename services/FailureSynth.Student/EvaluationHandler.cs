using System.Diagnostics;
using FailureSynth.Backends;
using FailureSynth.Caching;
using FailureSynth.Events;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Student;
using FailureSynth.Messaging;
using StackExchange.Redis;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Student;

/// <summary>
/// Answers one evaluation batch in reasoning mode and replies with its failures. Predictions are cached in Redis
/// by model version and sample id; a batch is answered from the cache only when every sample of it is there, so
/// the network always sees the same batches as in-process (same numbers).
/// </summary>
public sealed partial class EvaluationHandler(IEventBus bus, StudentModels models, IConnectionMultiplexer redis, ILogger<EvaluationHandler> logger, StudentBackend backend)
    : IIntegrationEventHandler<EvaluationRequested>
{
    private static readonly ActivitySource Source = new("FailureSynth.Student");

    public async Task HandleAsync(EvaluationRequested request, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("student.evaluate");
        // Backends:Student (openai) when configured: the served model answers, and its id keys the prediction cache.
        var remote = backend.Student;
        string version = remote?.ModelVersion ?? request.ModelVersion;
        var generator = new WorldGenerator(Profiles.Resolve(request.Split.Profile));
        var samples = new WorldSample[request.Count];
        Parallel.For(0, request.Count, i => samples[i] = generator.Generate(request.Split.Seed, request.Start + i));

        var cache = new RedisCallCache(redis.GetDatabase(), "fs:student:", logger);
        var keys = samples.Select(s => RedisCallCache.Key(version, s.Id)).ToArray();
        var replies = new StudentReply[samples.Length];
        bool allCached = true;
        for (int i = 0; i < samples.Length && allCached; i++)
        {
            var hit = await cache.GetAsync<StudentReply>(keys[i], cancellationToken);
            if (hit is null || hit.SampleId != samples[i].Id) allCached = false;
            else replies[i] = hit;
        }
        if (!allCached)
        {
            var queries = new StudentQuery[samples.Length];
            Parallel.For(0, samples.Length, i => queries[i] = new StudentQuery(samples[i].Id, samples[i].Question, samples[i].Program, SceneRasterizer.Render(samples[i].Scene, request.ImageSize)));
            // Concurrent requests for this model share forward passes (StudentAnswerBatcher).
            IStudent student = (IStudent?)remote ?? EmbeddedFor(request, version);
            var answered = await student.AnswerAsync(queries, StudentMode.Reasoning, cancellationToken);
            for (int i = 0; i < samples.Length; i++)
            {
                replies[i] = answered[i];
                await cache.SetAsync(keys[i], answered[i], TimeSpan.FromDays(2), cancellationToken);
            }
        }
        var failures = new List<Failure>();
        int correct = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            if (FailureCollector.ToFailure(samples[i], replies[i], request.Scope) is { } failure) failures.Add(failure);
            else correct++;
        }
        LogAnswered(logger, request.Start, request.Start + request.Count, version, failures.Count, allCached);
        await bus.PublishAsync(new EvaluationAnswered
        {
            Id = EventIds.Derive(request.CampaignId, request.Id, "answered"),
            CampaignId = request.CampaignId,
            RequestId = request.RequestId,
            Index = request.Index,
            Correct = correct,
            Failures = failures,
        }, cancellationToken);
    }

    private EmbeddedStudent EmbeddedFor(EvaluationRequested request, string version)
    {
        var batcher = models.Batcher(request.CheckpointPath, request.ModelVersion, request.Threads);
        return new EmbeddedStudent(batcher.Student, version, batcher);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Answered samples {Start}..{End} with {Version}: {Failures} failures (from cache: {Cached})")]
    private static partial void LogAnswered(ILogger logger, int start, int end, string version, int failures, bool cached);
}
