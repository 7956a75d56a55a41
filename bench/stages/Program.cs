// Per-sample CPU of each step a synthesised sample takes through the services, measured on one thread without the
// broker: proposing, rendering and checking (which the in-process pipeline pays too), and the two ways a picture can
// travel from ImageSynth to QualityFilter: a PNG stored under the data root (encode, hash and write; read and decode),
// or raw pixels inside the batch message (base64 in the JSON). Batches of 32, 16 skills x 256 proposals per round;
// the first round warms the JIT and is reported apart. Wall time of one thread: run it on a quiet machine.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Events;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Teacher;
using FailureSynth.Workers;
using FailureSynth.World.Rendering;
using FailureSynth.World.Skills;

int rounds = args.Length > 0 && int.TryParse(args[0], out int r) && r >= 2 ? r : 4;
var config = new CampaignConfig { Name = "bench-stages" };
var teacher = new EmbeddedTeacher(config.Teacher.ToOptions());
var filter = new QualityFilter(teacher, config.Filter.ToOptions());
var checking = new SampleChecking(config.Teacher.ToOptions(), config.Filter.ToOptions(), SceneRasterizer.DefaultSize);
var json = new JsonSerializerOptions(JsonSerializerDefaults.Web); // the event bus's JSON shape
string folder = Path.Combine(Path.GetTempPath(), "failuresynth-bench-stages-" + Environment.ProcessId);
var root = new DataRoot(folder);
const int Batch = 32;
Console.WriteLine($"bench/stages: {rounds} rounds of 16 skills x 256 proposals, batches of {Batch}, {SceneRasterizer.DefaultSize}x{SceneRasterizer.DefaultSize} pictures; microseconds per sample, one thread (run it on a quiet machine)");
try
{
    for (int round = 0; round < rounds; round++)
    {
        var cost = new SortedDictionary<string, double>(StringComparer.Ordinal);
        int samples = 0;
        long Now() => Stopwatch.GetTimestamp();
        void Add(string step, long since) => cost[step] = cost.GetValueOrDefault(step) + Stopwatch.GetElapsedTime(since).TotalMicroseconds;
        foreach (var (index, skill) in SkillTaxonomy.All.Take(16).Index())
        {
            long t = Now();
            var proposals = await teacher.ProposeAsync(new SkillDiagnosis(TeacherSkills.SkillText(skill.Key), skill.Key), null, 256, 1000 + index + 16L * round, default);
            Add("1 propose (both paths)", t);
            samples += proposals.Count;
            for (int first = 0; first < proposals.Count; first += Batch)
            {
                var batch = proposals.Skip(first).Take(Batch).ToList();
                var images = new List<RgbImage>();
                t = Now();
                foreach (var p in batch) images.Add(SceneRasterizer.Render(p.Scene!, SceneRasterizer.DefaultSize));
                Add("2 render (both paths)", t);
                t = Now();
                foreach (var (p, image) in batch.Zip(images)) await filter.CheckAsync(p, image, default);
                Add("3 check a given picture (both paths)", t);

                // A stored PNG: encode, name by SHA-256 and write; the filter reads and decodes it.
                t = Now();
                var paths = images.Select(image => root.StoreContentAddressed("images", PngEncoder.Encode(image, PngEncoderOptions.Transit), ".png")).ToList();
                Add("4a PNG: encode, hash, write", t);
                t = Now();
                foreach (var path in paths) PngDecoder.DecodeFile(root.Resolve(path));
                Add("4b PNG: read, decode", t);
                t = Now();
                RoundTrip(batch.Select((p, i) => (RenderedItem?)new RenderedItem(first + i, p, paths[i], null)).ToList());
                Add("4c PNG: rendered batch JSON out and in", t);

                // Pixels in the message.
                t = Now();
                var back = RoundTrip(batch.Select((p, i) => (RenderedItem?)new RenderedItem(first + i, p, null, null, InlinePicture.Of(images[i]))).ToList());
                foreach (var item in back.Items) item!.Picture!.ToImage();
                Add("5 inline: rendered batch JSON out and in", t);
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}{(round == 0 ? " (warm-up)" : "")}, {samples} samples: ")
            + string.Join("; ", cost.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value / samples:0.0}"))));
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

SampleBatchRendered RoundTrip(List<RenderedItem?> items)
{
    var e = new SampleBatchRendered { Id = "bench", CampaignId = "bench", RequestId = "bench", Items = items, Checking = checking };
    return JsonSerializer.Deserialize<SampleBatchRendered>(JsonSerializer.SerializeToUtf8Bytes(e, json), json)!;
}
