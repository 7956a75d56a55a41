using System.Diagnostics;
using System.Text.Json.Serialization;
using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.World;

namespace FailureSynth.Cli.Bench;

/// <summary>One measured configuration of the generation benchmark.</summary>
public sealed record GenerationRun(
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("samples_per_s")] double SamplesPerSecond);

/// <summary>
/// Measures ShapesWorld generation throughput on this machine: in memory (sample + render +
/// PNG encode) and end to end (the same plus writing the dataset folder), on one thread and on
/// all cores. Each figure is the best of <c>repeats</c> runs after a warm-up, so JIT and
/// first-touch costs do not count.
/// </summary>
public static class GenerationBenchmark
{
    public static IReadOnlyList<GenerationRun> Run(string profile, int count, int repeats, string scratchDirectory)
    {
        var generator = new WorldGenerator(Profiles.Resolve(profile));
        int cores = Environment.ProcessorCount;
        var runs = new List<GenerationRun>();
        InMemory(generator, Math.Min(count, 500), 1); // warm-up
        foreach (int threads in new[] { 1, cores }.Distinct())
        {
            double best = Enumerable.Range(0, repeats).Min(_ => InMemory(generator, count, threads));
            runs.Add(new GenerationRun("in-memory", threads, count, best, count / best));
        }
        foreach (int threads in new[] { 1, cores }.Distinct())
        {
            double best = Enumerable.Range(0, repeats).Min(r => ToDisk(profile, count, threads, Path.Combine(scratchDirectory, $"t{threads}-r{r}")));
            runs.Add(new GenerationRun("to-disk", threads, count, best, count / best));
        }
        return runs;
    }

    private static double InMemory(WorldGenerator generator, int count, int threads)
    {
        var stopwatch = Stopwatch.StartNew();
        long bytes = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => 0L,
            (i, _, local) => local + ShapesWorldExporter.CreateRecord(generator.Generate(1, i), 64).Png.Length,
            local => Interlocked.Add(ref bytes, local));
        if (bytes == 0) throw new InvalidOperationException("the benchmark produced no image bytes");
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static double ToDisk(string profile, int count, int threads, string directory)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        var result = ShapesWorldExporter.Export(new ShapesWorldExportRequest(profile, count, 1, directory, Threads: threads));
        Directory.Delete(directory, recursive: true);
        return result.Elapsed.TotalSeconds;
    }
}
