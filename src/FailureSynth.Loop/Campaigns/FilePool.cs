using System.Security.Cryptography;
using FailureSynth.Datasets;
using FailureSynth.Imaging;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Retrieval;

namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// The user's support pool as a dataset file (<c>pool.file</c>, campaigns on dataset files with <c>prescription: retrieve</c>):
/// the teacher describes the skill each pool question needs (once; kept in <c>OUT/pool-skills.json</c> so a resumed run does
/// not ask again), a BM25 index over those texts (the retrieval of seed 002) answers each demand's skill statement, and the
/// top hits not taken before become training samples with their own picture and reference answer.
/// </summary>
public sealed class FilePool
{
    private readonly ExternalSplit _pool;
    private readonly Bm25Index _index;

    private FilePool(ExternalSplit pool, Bm25Index index)
    {
        _pool = pool;
        _index = index;
    }

    public int Count => _pool.Samples.Count;

    /// <summary>The stored sample id of a pool question.</summary>
    public static string ProposalId(VqaSample sample) => StableHash.Id("pool", sample.Id);

    public static async Task<FilePool> BuildAsync(PoolConfig config, ITeacher teacher, string skillsFile, Action<long, long>? report, CancellationToken cancellationToken)
    {
        var pool = ExternalSplit.Load("pool", new DataSplitConfig { File = config.File, Format = config.Format, Images = config.Images, Count = config.Count, Seed = config.Seed });
        var known = File.Exists(skillsFile) ? CampaignJson.Read<Dictionary<string, string>>(skillsFile) : new Dictionary<string, string>(StringComparer.Ordinal);
        var texts = new string[pool.Samples.Count];
        int done = 0;
        await Parallel.ForAsync(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var s = pool.Samples[i];
            texts[i] = known.TryGetValue(s.Id, out var t) ? t
                : await teacher.DescribeRequiredSkillAsync(new TeacherQuestion(ExternalSplit.Prompt(s), s.Family, null, s.Choices), ExternalSplit.Gold(s), ct).ConfigureAwait(false);
            report?.Invoke(Interlocked.Increment(ref done), texts.Length);
        }).ConfigureAwait(false);
        if (!File.Exists(skillsFile))
            CampaignJson.Write(skillsFile, pool.Samples.Select((s, i) => (s.Id, texts[i])).ToDictionary(x => x.Id, x => x.Item2, StringComparer.Ordinal));
        var index = new Bm25Index(config.K1, config.B);
        for (int i = 0; i < texts.Length; i++) index.Add(pool.Samples[i].Id, texts[i]);
        return new FilePool(pool, index);
    }

    /// <summary>
    /// Top-K per demand (K = its count), in demand order, never a pool question twice nor one in <paramref name="taken"/>
    /// (ids of earlier iterations), nor a picture and question seen already. Each hit's picture is copied to
    /// <c>iter-K/images/ID.png</c>; the sample keeps the pool's reference answer (it is the user's labelled data: no judge).
    /// </summary>
    public PrescribeOutput Retrieve(IReadOnlyList<SkillDemand> demands, ISet<string> taken, string iterationDirectory, string outputDirectory)
    {
        var stored = new List<StoredSample>();
        var verdicts = new List<FilterVerdict>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int proposed = 0;
        foreach (var demand in demands.OrderBy(d => d.Query, StringComparer.Ordinal))
        {
            int got = 0;
            foreach (var hit in _index.Search(demand.Query, Math.Min(Count, demand.Count * 4 + 16)))
            {
                if (got == demand.Count) break;
                var s = _pool.Samples[hit.Document];
                string id = ProposalId(s);
                if (taken.Contains(id) || !seen.Add(id)) continue;
                proposed++;
                byte[] png = File.ReadAllBytes(_pool.ImagePath(s));
                string answer = s.Choices is { Count: > 0 } ? s.Answer : ExternalSplit.Gold(s);
                var proposal = new SampleProposal(id, demand.SkillKey, null, null, ExternalSplit.Prompt(s), answer, [], null);
                string pictureKey = Convert.ToHexStringLower(SHA256.HashData(png)) + "\n" + proposal.Question.Trim().ToLowerInvariant();
                if (!seen.Add(pictureKey))
                {
                    verdicts.Add(new FilterVerdict(id, FilterReason.Duplicate, "same picture and question as an earlier pool question", null, answer));
                    continue;
                }
                _ = PngDecoder.Decode(png, _pool.ImagePath(s)); // a picture that does not decode is refused before it is stored
                string path = Path.Combine(iterationDirectory, "images", id + ".png");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, png);
                var verdict = new FilterVerdict(id, FilterReason.Accepted, $"retrieved from pool.file (BM25 {hit.Score:0.###}); the pool's reference answer", null, answer);
                verdicts.Add(verdict);
                stored.Add(new StoredSample(proposal, verdict, "retrieved", demand.Query, demand.SkillKey, demand.FailureIds, Path.GetRelativePath(outputDirectory, path), null));
                got++;
            }
        }
        return new PrescribeOutput("retrieve", proposed, demands, [.. stored.OrderBy(s => s.Proposal.Id, StringComparer.Ordinal)], [.. verdicts.OrderBy(v => v.ProposalId, StringComparer.Ordinal)]);
    }
}
