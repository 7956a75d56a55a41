using System.Globalization;
using System.Text;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.World.Questions;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Reporting;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.Loop.Experiments;

/// <summary>The experiments of the loop issue. Each returns a report with rows {arm, n, mean, sd, seeds} and per-skill detail.</summary>
public static class Experiments
{
    public static readonly string[] Names = ["targeted-vs-random", "retrieval", "ablations", "locate-accuracy", "iterations", "budget-curve"];

    /// <summary>The sample counts of budget-curve.</summary>
    public static readonly int[] BudgetSizes = [250, 500, 1000, 2000, 4000];

    /// <summary>The sample counts of targeted-vs-random.</summary>
    public static readonly int[] TargetedSizes = [1000, 4000];

    /// <summary>
    /// Fine-tuning steps for <paramref name="n"/> added samples: the campaign's steps per budget.samples, scaled with
    /// n but capped at twice the campaign's steps (the experiments must fit in well under an hour on 2 cores).
    /// </summary>
    public static int StepsFor(CampaignConfig config, int n) =>
        Math.Max(1, (int)Math.Round(config.Budget.TrainSteps * Math.Min(2.0, (double)n / config.Budget.Samples)));

    public static Task<ExperimentReport> RunAsync(string name, Lab lab, int seeds, string command, CancellationToken cancellationToken) => name switch
    {
        "targeted-vs-random" => TargetedVsRandomAsync(lab, seeds, command, cancellationToken),
        "retrieval" => RetrievalAsync(lab, seeds, command, cancellationToken),
        "ablations" => AblationsAsync(lab, seeds, command, cancellationToken),
        "locate-accuracy" => LocateAccuracyAsync(lab, seeds, command, cancellationToken),
        "iterations" => IterationsAsync(lab, seeds, command, cancellationToken),
        "budget-curve" => BudgetCurveAsync(lab, seeds, BudgetSizes, command, cancellationToken),
        _ => throw new ArgumentException($"Unknown experiment '{name}'. Known: {string.Join(", ", Names)}."),
    };

    /// <summary>
    /// budget-curve: targeted, random-synthetic and random-natural at each N of <paramref name="sizes"/>. The arms are the
    /// runs of targeted-vs-random (the same run family, seeds and steps), so the N both experiments share come from the run cache.
    /// </summary>
    public static async Task<ExperimentReport> BudgetCurveAsync(Lab lab, int seeds, IReadOnlyList<int> sizes, string command, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lab);
        if (sizes.Count == 0 || sizes.Any(n => n < 1)) throw new ArgumentException("budget-curve needs at least one sample count, each at least 1.", nameof(sizes));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var runs = new List<ArmRun>();
        var diagnosed = new Dictionary<int, IReadOnlyList<DiagnosedFailure>>();
        async Task<IReadOnlyList<DiagnosedFailure>> Diagnosed(int seed)
        {
            if (!diagnosed.TryGetValue(seed, out var d))
                diagnosed[seed] = d = await lab.DiagnoseAsync(await lab.FailuresAsync(seed, ct).ConfigureAwait(false), lab.Locator("answer-switch", seed), seed, ct).ConfigureAwait(false);
            return d;
        }
        foreach (int n in sizes)
        {
            int steps = StepsFor(lab.Config, n);
            for (int seed = 1; seed <= seeds; seed++)
            {
                int s = seed;
                runs.Add(await lab.RunArmAsync("prescribe", "targeted", n, s, steps, async () =>
                    await lab.SynthesiseAsync(lab.TargetedDemands(await Diagnosed(s).ConfigureAwait(false), n), SeedOf("targeted", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
                runs.Add(await lab.RunArmAsync("prescribe", "random-synthetic", n, s, steps, async () =>
                    await lab.SynthesiseAsync(Lab.UniformDemands(n), SeedOf("random-synthetic", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
                runs.Add(await lab.RunArmAsync("prescribe", "random-natural", n, s, steps, () => Task.FromResult(lab.Natural(n, s)), ct).ConfigureAwait(false));
            }
        }
        var rows = Rows(runs);
        var findings = new List<string>();
        foreach (int n in sizes)
        {
            var t = rows.Single(r => r.Arm == "targeted" && r.N == n);
            var syn = rows.Single(r => r.Arm == "random-synthetic" && r.N == n);
            var nat = rows.Single(r => r.Arm == "random-natural" && r.N == n);
            double margin = t.Mean - syn.Mean, larger = Math.Max(t.Sd, syn.Sd);
            findings.Add(F($"N={n}: targeted {100 * t.Mean:0.0} ± {100 * t.Sd:0.0} % vs random-synthetic {100 * syn.Mean:0.0} ± {100 * syn.Sd:0.0} % (margin {Points(100 * margin)} points, larger sd {100 * larger:0.0}: {(margin > larger ? "beats it by more than the larger sd" : "does NOT beat it by more than the larger sd")}{(margin >= 0.01 ? ", by at least 1 point" : ", by less than 1 point")}) and random-natural {100 * nat.Mean:0.0} ± {100 * nat.Sd:0.0} % (margin {Points(100 * (t.Mean - nat.Mean))})."));
            var drops = SkillDrops(lab, runs, "targeted", n);
            findings.Add(F($"N={n}: targeted's largest per-skill drop from the base (mean over seeds): {drops[0].Skill} {100 * drops[0].Drop:0.0} points; {drops.Count(d => d.Drop > 0.02)} skill(s) more than 2 points lower."));
        }
        return Report("budget-curve", "How does each kind of data pay as the budget grows? Targeted, uniform synthetic and fresh base-distribution data at each N, from the same base student.",
            command, seeds, lab, rows, PerSkill(runs), findings,
            [F($"N = {string.Join(", ", sizes)}; fine-tuning steps scale with N ({string.Join(", ", sizes.Select(n => $"{StepsFor(lab.Config, n)} at {n}"))}), the same for every arm; the recipe of targeted-vs-random otherwise, whose runs at the N both share are reused from the run cache.")],
            watch.Elapsed);
    }

    // A signed difference in points, rounded first: a margin of -0.02 prints as 0.0, not as "-+0.0".
    private static string Points(double points) => Math.Round(points, 1).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);

    private static async Task<ExperimentReport> TargetedVsRandomAsync(Lab lab, int seeds, string command, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var runs = new List<ArmRun>();
        var diagnosed = new Dictionary<int, IReadOnlyList<DiagnosedFailure>>();
        async Task<IReadOnlyList<DiagnosedFailure>> Diagnosed(int seed)
        {
            if (!diagnosed.TryGetValue(seed, out var d))
                diagnosed[seed] = d = await lab.DiagnoseAsync(await lab.FailuresAsync(seed, ct).ConfigureAwait(false), lab.Locator("answer-switch", seed), seed, ct).ConfigureAwait(false);
            return d;
        }
        foreach (int n in TargetedSizes)
        {
            int steps = StepsFor(lab.Config, n);
            for (int seed = 1; seed <= seeds; seed++)
            {
                int s = seed;
                runs.Add(await lab.RunArmAsync("prescribe", "targeted", n, s, steps, async () =>
                    await lab.SynthesiseAsync(lab.TargetedDemands(await Diagnosed(s).ConfigureAwait(false), n), SeedOf("targeted", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
                runs.Add(await lab.RunArmAsync("prescribe", "random-natural", n, s, steps, () => Task.FromResult(lab.Natural(n, s)), ct).ConfigureAwait(false));
                runs.Add(await lab.RunArmAsync("prescribe", "random-synthetic", n, s, steps, async () =>
                    await lab.SynthesiseAsync(Lab.UniformDemands(n), SeedOf("random-synthetic", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
            }
        }
        var rows = Rows(runs);
        var findings = new List<string>();
        var baseSkills = lab.BaseReport.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal);
        double median = Median(baseSkills.Values);
        var weak = baseSkills.Where(kv => kv.Value <= median - 0.15).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        foreach (int n in TargetedSizes)
        {
            var t = rows.Single(r => r.Arm == "targeted" && r.N == n);
            var nat = rows.Single(r => r.Arm == "random-natural" && r.N == n);
            var syn = rows.Single(r => r.Arm == "random-synthetic" && r.N == n);
            double margin = t.Mean - nat.Mean, larger = Math.Max(t.Sd, nat.Sd);
            findings.Add(F($"N={n}: targeted {100 * t.Mean:0.0} % vs random-natural {100 * nat.Mean:0.0} % (margin {Points(100 * margin)} points, larger sd {100 * larger:0.0}) and random-synthetic {100 * syn.Mean:0.0} %: targeted {(margin > larger ? "beats" : "does NOT beat")} random-natural by more than the larger sd{(n == 4000 ? margin >= 0.03 ? " and by at least 3 points" : " but NOT by 3 points" : "")}."));
            double WeakMean(string arm) => Mean(runs.Where(r => r.Arm == arm && r.N == n).Select(r => weak.Average(k => r.PerSkill.GetValueOrDefault(k))));
            double OtherMean(string arm) => Mean(runs.Where(r => r.Arm == arm && r.N == n).Select(r => baseSkills.Keys.Except(weak).Average(k => r.PerSkill.GetValueOrDefault(k))));
            findings.Add(F($"N={n}: on the {weak.Count} initially weak skills (>= 15 points below the base median {100 * median:0.0} %, base mean {100 * weak.Average(k => baseSkills[k]):0.0} %) targeted reaches {100 * WeakMean("targeted"):0.0} % vs random-natural {100 * WeakMean("random-natural"):0.0} % (margin {Points(100 * (WeakMean("targeted") - WeakMean("random-natural")))}); on the other skills {100 * OtherMean("targeted"):0.0} % vs {100 * OtherMean("random-natural"):0.0} % (margin {Points(100 * (OtherMean("targeted") - OtherMean("random-natural")))})."));
            var drops = SkillDrops(lab, runs, "targeted", n);
            var naturalDrops = SkillDrops(lab, runs, "random-natural", n);
            var beyondNoise = drops.Where(d => d.Drop > 0.02 && d.Drop > 2 * d.StandardError).ToList();
            findings.Add(F($"N={n}: targeted's largest per-skill drop from the base (mean over seeds) is {drops[0].Skill} {100 * drops[0].Drop:0.0} points; {drops.Count(d => d.Drop > 0.02)} of {drops.Count} skills drop by more than 2 points (random-natural: {naturalDrops.Count(d => d.Drop > 0.02)}; per-skill test counts: {lab.BaseReport.PerSkill.Values.Min(v => v.Count)}..{lab.BaseReport.PerSkill.Values.Max(v => v.Count)} questions, so one question is {100.0 / lab.BaseReport.PerSkill.Values.Max(v => v.Count):0.0##}..{100.0 / lab.BaseReport.PerSkill.Values.Min(v => v.Count):0.0#} points); {beyondNoise.Count} of them also by more than two standard errors of the test estimate{(beyondNoise.Count == 0 ? "" : ": " + string.Join(", ", beyondNoise.Take(5).Select(d => $"{d.Skill} -{100 * d.Drop:0.0} of {d.Count}")))}."));
        }
        return Report("targeted-vs-random", "Does data synthesised for the diagnosed skills beat the same amount of fresh base-distribution data (seed 000's \"equal amount of real data\") and of uniformly spread synthetic data?",
            command, seeds, lab, rows, PerSkill(runs), findings,
            [F($"Fine-tuning from the base student: {StepsFor(lab.Config, 1000)} steps for N=1000 and {StepsFor(lab.Config, 4000)} for N=4000 (batch 64, lr {lab.Config.Budget.LearningRate}, {lab.Config.Budget.Replay} replayed original samples per added sample{(lab.Config.Budget.Distill > 0 ? $", distillation weight {lab.Config.Budget.Distill} toward the base student's answers on them" : "")}{(lab.Config.Budget.FreezeNorm == true ? ", batch-norm statistics of the base kept" : "")}{(lab.Config.Budget.KeepStart is > 0 ? $", then each weight mixed back toward the base's by keep_start {lab.Config.Budget.KeepStart}" : "")}{(lab.Config.Budget.Guard is > 0 ? $", with a share {lab.Config.Budget.Guard} of the replay given to the skills a probe fine-tune fell on (budget.guard)" : "")}), the same for every arm."),
             F($"Targeted: failures of the base student on a balanced validation split of {lab.Config.Validation.Count} per seed, {lab.Config.Budget.Failures} analysed, answer-switch (bias {lab.Config.Locate.Bias}, delta {lab.Config.Locate.Delta}, lambda {lab.Config.Locate.Lambda}), diagnosed, N split over skills by failure counts, synthesised and filtered."),
             "random-natural: fresh samples of the base training profile (base-skewed). random-synthetic: teacher proposals spread uniformly over the 74 skills, through the same filter."],
            watch.Elapsed);
    }

    private static async Task<ExperimentReport> RetrievalAsync(Lab lab, int seeds, string command, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var pool = await SupportPool.BuildAsync(lab.Teacher, lab.Config.Pool.Profile, lab.Config.Pool.Count, lab.Config.Pool.Seed, lab.Config.Pool.K1, lab.Config.Pool.B,
            new Common.SyncProgress<int>(n => lab.Progress?.Report(new CampaignProgress(0, "support pool", n, lab.Config.Pool.Count))), ct).ConfigureAwait(false);
        int k = lab.Config.Budget.Samples;
        int steps = StepsFor(lab.Config, k);
        int fullSteps = StepsFor(lab.Config, 2 * k);
        var runs = new List<ArmRun>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            int s = seed;
            var diagnosed = await lab.DiagnoseAsync(await lab.FailuresAsync(s, ct).ConfigureAwait(false), lab.Locator("answer-switch", s), s, ct).ConfigureAwait(false);
            runs.Add(await lab.RunArmAsync("retrieve", "targeted-bm25", k, s, steps, () =>
                Task.FromResult(StudentTraining.Examples([.. pool.Retrieve(DemandPlanner.Plan(diagnosed, k, contrast: lab.Config.Contrast)).Select(h => h.Sample)])), ct).ConfigureAwait(false));
            runs.Add(await lab.RunArmAsync("retrieve", "random", k, s, steps, () => Task.FromResult(StudentTraining.Examples(pool.Random(k, SeedOf("random-pool", k, s)))), ct).ConfigureAwait(false));
            runs.Add(await lab.RunArmAsync("retrieve", "full", pool.Samples.Count, s, fullSteps, () => Task.FromResult(StudentTraining.Examples(pool.Samples)), ct).ConfigureAwait(false));
        }
        var rows = Rows(runs);
        var t = rows.Single(r => r.Arm == "targeted-bm25");
        var rnd = rows.Single(r => r.Arm == "random");
        var full = rows.Single(r => r.Arm == "full");
        var findings = new List<string>
        {
            F($"targeted-bm25 K={k}: {100 * t.Mean:0.0} ± {100 * t.Sd:0.0} % vs random K={k}: {100 * rnd.Mean:0.0} ± {100 * rnd.Sd:0.0} % -> targeted {(t.Mean - rnd.Mean > Math.Max(t.Sd, rnd.Sd) ? "beats" : t.Mean > rnd.Mean ? "is above (within the larger sd of)" : "does NOT beat")} random at equal K ({Points(100 * (t.Mean - rnd.Mean))} points)."),
            F($"full pool ({pool.Samples.Count} samples, {fullSteps} steps, about {100.0 * fullSteps * 64 / (pool.Samples.Count + Math.Min(lab.Original.Count, pool.Samples.Count * lab.Config.Budget.Replay)):0} % of one epoch over pool + replay): {100 * full.Mean:0.0} ± {100 * full.Sd:0.0} %; targeted-bm25 is {Points(100 * (t.Mean - full.Mean))} points from it with {100.0 * k / pool.Samples.Count:0.0} % of the pool and half of its steps."),
        };
        return Report("retrieval", "Seed 002's table: top-K support samples retrieved by BM25 for the diagnosed skills vs K random support samples vs the whole pool.",
            command, seeds, lab, rows, PerSkill(runs), findings,
            [F($"Support pool: {pool.Samples.Count} samples of the '{lab.Config.Pool.Profile}' profile (seed {lab.Config.Pool.Seed}); each sample's skill text precomputed by the teacher; BM25 k1={lab.Config.Pool.K1}, b={lab.Config.Pool.B}."),
             F($"K={k} retrieved as top-K per diagnosed skill (K split by failure counts); random and targeted fine-tune {steps} steps, full {fullSteps} steps.")],
            watch.Elapsed);
    }

    private static async Task<ExperimentReport> AblationsAsync(Lab lab, int seeds, string command, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int n = lab.Config.Budget.Samples;
        int steps = StepsFor(lab.Config, n);
        var runs = new List<ArmRun>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            int s = seed;
            var failures = await lab.FailuresAsync(s, ct).ConfigureAwait(false);
            var located = await lab.DiagnoseAsync(failures, lab.Locator("answer-switch", s), s, ct).ConfigureAwait(false);
            runs.Add(await lab.RunArmAsync("prescribe", "targeted", n, s, steps, async () =>
                await lab.SynthesiseAsync(DemandPlanner.Plan(located, n, contrast: lab.Config.Contrast), SeedOf("targeted", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
            runs.Add(await lab.RunArmAsync("ablation", "no-locate", n, s, steps, async () =>
            {
                var randomStep = await lab.DiagnoseAsync(failures, lab.Locator("random", s), s, ct).ConfigureAwait(false);
                return await lab.SynthesiseAsync(DemandPlanner.Plan(randomStep, n, contrast: lab.Config.Contrast), SeedOf("no-locate", n, s), ct).ConfigureAwait(false);
            }, ct).ConfigureAwait(false));
            runs.Add(await lab.RunArmAsync("ablation", "no-diagnose", n, s, steps, async () =>
                await lab.SynthesiseAsync(DemandPlanner.Plan(located, n, useDiagnosis: false), SeedOf("no-diagnose", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
            runs.Add(await lab.RunArmAsync("prescribe", "random-synthetic", n, s, steps, async () =>
                await lab.SynthesiseAsync(Lab.UniformDemands(n), SeedOf("random-synthetic", n, s), ct).ConfigureAwait(false), ct).ConfigureAwait(false));
        }
        var renamed = runs.Select(r => r.Arm switch { "targeted" => r with { Arm = "full" }, "random-synthetic" => r with { Arm = "no-targeting" }, _ => r }).ToList();
        var rows = Rows(renamed);
        var full = rows.Single(r => r.Arm == "full");
        var findings = rows.Where(r => r.Arm != "full").Select(r =>
            F($"{r.Arm}: {100 * r.Mean:0.0} ± {100 * r.Sd:0.0} %, {Points(100 * (r.Mean - full.Mean))} points from full ({100 * full.Mean:0.0} %)")).ToList();
        return Report("ablations", "Which parts of the method matter? full (answer-switch + diagnosis + targeted synthesis), no-locate (a random step), no-diagnose (the raw step text instead of a named skill), no-targeting (uniform synthetic data).",
            command, seeds, lab, rows, PerSkill(renamed), findings,
            [F($"N={n} synthesised samples per arm, {steps} fine-tuning steps. no-diagnose: the located step's question text is the request; the embedded teacher maps free text to a skill with BM25 over the taxonomy's skill texts.")],
            watch.Elapsed);
    }

    /// <summary>
    /// Per skill, the base accuracy minus the arm's mean over seeds, largest first, with the standard error of that
    /// difference on the skill's test questions (<see cref="Stats.AccuracyDifferenceStandardError"/>).
    /// </summary>
    private static List<(string Skill, double Drop, double StandardError, int Count)> SkillDrops(Lab lab, IReadOnlyList<ArmRun> runs, string arm, int n) =>
        lab.BaseReport.PerSkill.Select(kv =>
        {
            double before = kv.Value.Accuracy;
            double after = Mean(runs.Where(r => r.Arm == arm && r.N == n).Select(r => r.PerSkill.GetValueOrDefault(kv.Key)));
            return (kv.Key, before - after, Stats.AccuracyDifferenceStandardError(before, after, kv.Value.Count), kv.Value.Count);
        }).OrderByDescending(d => d.Item2).ToList();

    private static async Task<ExperimentReport> LocateAccuracyAsync(Lab lab, int seeds, string command, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string[] arms = ["random", "prompt-per-step", "pseudo-rationale", "answer-switch"];
        var paper = new Dictionary<string, double> { ["random"] = 0.07, ["prompt-per-step"] = 0.28, ["pseudo-rationale"] = 0.59, ["answer-switch"] = 0.65 };
        var perSeed = arms.ToDictionary(a => a, _ => new List<double>());
        var perFamily = arms.ToDictionary(a => a, _ => new SortedDictionary<string, (int Right, int Count)>(StringComparer.Ordinal));
        int total = 0;
        var oracleSteps = new SortedDictionary<int, int>();
        // One line per failure and seed: what the oracle says and where each arm looked, to audit disagreements.
        var lines = new List<LocatedFailureLine>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var failures = (await lab.FailuresAsync(seed, ct).ConfigureAwait(false))
                .Select(f => (f, Oracle: Oracle.FirstWrongStep(f.Sample.Program, f.Sample.Scene, f.Failure.Steps))).Where(x => x.Oracle > 0).ToList();
            total += failures.Count;
            foreach (var (_, o) in failures) oracleSteps[o] = oracleSteps.GetValueOrDefault(o) + 1;
            var seedLines = failures.Select(x =>
            {
                var exact = Reasoning.Decompose(x.f.Sample.Program, x.f.Sample.Scene);
                return new LocatedFailureLine(seed, x.f.Failure.Id, x.f.Sample.Family, x.f.Failure.Question.Text, x.f.Failure.Gold, x.f.Failure.Predicted,
                    [.. x.f.Failure.Steps.Select((s, k) => new LocatedFailureStep(s.Answer, Math.Round(s.Probability, 4), k < exact.Count ? exact[k].Answer : null))],
                    x.Oracle, new SortedDictionary<string, LocatedStep>(StringComparer.Ordinal));
            }).ToList();
            lines.AddRange(seedLines);
            foreach (string arm in arms)
            {
                var locator = lab.Locator(arm, seed);
                int right = 0;
                for (int i = 0; i < failures.Count; i++)
                {
                    var (f, oracle) = failures[i];
                    var step = await locator.LocateAsync(f.Failure, ct).ConfigureAwait(false);
                    seedLines[i].Located[arm] = step;
                    bool ok = step.Index == oracle;
                    if (ok) right++;
                    var (r, c) = perFamily[arm].GetValueOrDefault(f.Sample.Family);
                    perFamily[arm][f.Sample.Family] = (r + (ok ? 1 : 0), c + 1);
                }
                perSeed[arm].Add((double)right / Math.Max(1, failures.Count));
                lab.Progress?.Report(new CampaignProgress(0, $"locate-accuracy seed {seed}", Array.IndexOf(arms, arm) + 1, arms.Length));
            }
        }
        CampaignJson.WriteLines(Path.Combine(lab.Output, "located.jsonl"), lines);
        var rows = arms.Select(a => ArmRow.Of(a, total, perSeed[a])).ToList();
        var best = rows.OrderByDescending(r => r.Mean).First();
        var answerSwitch = rows.Single(r => r.Arm == "answer-switch");
        var findings = new List<string>
        {
            F($"{total} failures with a wrong step over {seeds} validation splits; the oracle's first wrong step: {string.Join(", ", oracleSteps.Select(kv => $"step {kv.Key} {100.0 * kv.Value / total:0}%"))}."),
            F($"answer-switch {100 * answerSwitch.Mean:0.0} % vs {string.Join(", ", rows.Where(r => r.Arm != "answer-switch").Select(r => $"{r.Arm} {100 * r.Mean:0.0} %"))}: answer-switch {(best.Arm == "answer-switch" && rows.Where(r => r.Arm != "answer-switch").All(r => answerSwitch.Mean > r.Mean) ? "beats every other arm" : "does NOT beat every other arm")} (by the means)."),
            // With 2-4 steps and most first wrong steps at step 1, an arm that leans to step 1 scores high for that
            // reason alone: this line puts the base rate and each arm's lean beside the accuracies.
            F($"Naming step 1 every time would score {100.0 * oracleSteps.GetValueOrDefault(1) / Math.Max(1, total):0.0} % (the oracle's share of step 1); how often each arm names step 1: {string.Join(", ", arms.Select(a => $"{a} {100.0 * lines.Count(l => l.Located[a].Index == 1) / Math.Max(1, lines.Count):0.0} %"))}."),
        };
        // How far any rule built on answer-switch's signal could go here: map each pattern of its margins to the
        // oracle's most common step for that pattern, fitted on these very failures (so a bound, not a locator).
        var (patterns, ceiling) = MarginPatternCeiling(lines, lab.Config.Locate.Delta);
        findings.Add(F($"Ceiling of the answer-switch signal: a rule that sees only which of answer-switch's margins (before and after each step) exceed delta {lab.Config.Locate.Delta}, and maps each of the {patterns} patterns to the oracle's most common step for it on these same failures, would score {100.0 * ceiling / Math.Max(1, lines.Count):0.0} % (fitted on the scored failures, so an upper bound for such rules)."));
        // Every arm locates the same failures of a seed, so the per-seed differences are the fair comparison:
        // they cancel what the seeds' failure sets have in common (some splits are easier for every locator).
        foreach (string other in arms.Where(a => a != "answer-switch"))
        {
            var differences = perSeed["answer-switch"].Zip(perSeed[other], (a, b) => a - b).ToList();
            var (mean, sd, _) = Stats.MeanAndSd(differences);
            findings.Add(F($"answer-switch - {other}, paired per seed: {Points(100 * mean)} ± {100 * sd:0.0} points (ahead on {differences.Count(d => d > 0)} of {differences.Count} seeds)."));
        }
        var extra = new StringBuilder();
        extra.AppendLine("## Ours beside the paper (seed 002)");
        extra.AppendLine();
        extra.AppendLine(MarkdownTable.Render(["method", "ours (mean ± sd)", "paper"],
            rows.Select(r => (IReadOnlyList<string>)[r.Arm, Stats.Format(100 * r.Mean, 100 * r.Sd), (100 * paper[r.Arm]).ToString("0", CultureInfo.InvariantCulture) + " %"]),
            [ColumnAlignment.Left, ColumnAlignment.Numeric, ColumnAlignment.Numeric]));
        extra.AppendLine();
        extra.AppendLine("## Per family (all seeds)");
        extra.AppendLine();
        var families = perFamily.Values.SelectMany(d => d.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        extra.AppendLine(MarkdownTable.Render(["family", .. arms],
            families.Select(fam => (IReadOnlyList<string>)[fam, .. arms.Select(a => perFamily[a].TryGetValue(fam, out var v) ? F($"{100.0 * v.Right / v.Count:0} % of {v.Count}") : "-")]),
            [ColumnAlignment.Left, .. arms.Select(_ => ColumnAlignment.Numeric)]));
        extra.AppendLine();
        var (sweepMarkdown, sweepNote) = await SweepAsync(lab, ct).ConfigureAwait(false);
        extra.Append(sweepMarkdown);
        return Report("locate-accuracy", "How often does each locator find the step the oracle (which reads the true scene) says is the first wrong one?",
            command, seeds, lab, rows, new Dictionary<string, IReadOnlyDictionary<string, double>>(), findings,
            ["The paper counts steps of free-text rationales (random = 7 % with many steps); ShapesWorld rationales have 2-4 steps, so random is much higher here.",
             sweepNote],
            watch.Elapsed, extra.ToString(), metric: "locate accuracy");
    }

    /// <summary>
    /// The most failures any rule reading only answer-switch's margin pattern (the step count and which margins exceed
    /// <paramref name="delta"/>) could locate: per pattern, the count of its most common oracle step.
    /// </summary>
    private static (int Patterns, int Right) MarginPatternCeiling(IReadOnlyList<LocatedFailureLine> lines, double delta)
    {
        var groups = lines.GroupBy(l => string.Concat((l.Located["answer-switch"].Margins ?? []).Select(m => m > delta ? '+' : '-')), StringComparer.Ordinal).ToList();
        return (groups.Count, groups.Sum(g => g.GroupBy(l => l.Oracle).Max(o => o.Count())));
    }

    /// <summary>The sweep behind answer-switch's defaults, on a tuning split (seed 0) that is not scored above.</summary>
    private static async Task<(string Markdown, string Note)> SweepAsync(Lab lab, CancellationToken ct)
    {
        var failures = (await lab.FailuresAsync(0, ct).ConfigureAwait(false))
            .Select(f => (f, Oracle: Oracle.FirstWrongStep(f.Sample.Program, f.Sample.Scene, f.Failure.Steps))).Where(x => x.Oracle > 0).ToList();
        var results = new List<(double Trust, double Bias, double Delta, int Lambda, double Accuracy)>();
        // The configured trust is always on the grid: the settings are compared at it, and any trust in (0, 1) is valid.
        foreach (double trust in new[] { 0.8, 0.9, 0.97, lab.Config.Teacher.Trust }.Distinct().Order())
        {
            var teacher = new EmbeddedTeacher(lab.Teacher.Options with { Trust = trust });
            foreach (double bias in new[] { 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 })
                foreach (double delta in new[] { 0.0, 0.05, 0.1, 0.2 })
                    foreach (int lambda in new[] { 1, 2 })
                    {
                        var locator = new AnswerSwitchLocator(teacher, bias, delta, lambda);
                        int right = 0;
                        foreach (var (f, oracle) in failures)
                            if ((await locator.LocateAsync(f.Failure, ct).ConfigureAwait(false)).Index == oracle) right++;
                        results.Add((trust, bias, delta, lambda, (double)right / Math.Max(1, failures.Count)));
                    }
        }
        var best = results.OrderByDescending(r => r.Accuracy).ThenBy(r => r.Bias).First();
        // Trust belongs to the teacher; bias, delta and lambda are the locator's own settings, chosen at the teacher's trust.
        var bestAtTrust = results.Where(r => r.Trust == lab.Config.Teacher.Trust).OrderByDescending(r => r.Accuracy).ThenBy(r => r.Bias).ThenBy(r => r.Delta).ThenBy(r => r.Lambda).First();
        var used = results.FirstOrDefault(r => r.Trust == lab.Config.Teacher.Trust && r.Bias == lab.Config.Locate.Bias && r.Delta == lab.Config.Locate.Delta && r.Lambda == lab.Config.Locate.Lambda);
        var paperBias = results.Where(r => r.Trust == lab.Config.Teacher.Trust && r.Bias == 0.6 && r.Lambda == 1).OrderByDescending(r => r.Accuracy).First();
        string note = F($"answer-switch runs with the config's settings (bias {lab.Config.Locate.Bias}, delta {lab.Config.Locate.Delta}, lambda {lab.Config.Locate.Lambda}, teacher trust {lab.Config.Teacher.Trust}): {(used.Trust == 0 ? "not on the sweep grid" : $"{100 * used.Accuracy:0.0} %")} on the tuning split (seed 0, not scored above), against the sweep's best {100 * best.Accuracy:0.0} % (trust {best.Trust}, bias {best.Bias}, delta {best.Delta}, lambda {best.Lambda}), its best at the teacher's trust {lab.Config.Teacher.Trust} {100 * bestAtTrust.Accuracy:0.0} % (bias {bestAtTrust.Bias}, delta {bestAtTrust.Delta}, lambda {bestAtTrust.Lambda}) and {100 * paperBias.Accuracy:0.0} % with the paper's bias 0.6. A low bias wins partly because on yes/no and size answers it is below the teacher's own belief in the gold answer (about one half): the wrong answer then leads before any step is read and step 1, the oracle's step for most failures, is named (README, locate-accuracy).");
        var md = new StringBuilder();
        md.AppendLine(F($"## Answer-switch sweep (tuning split, {failures.Count} failures)"));
        md.AppendLine();
        md.AppendLine("Best 10 settings, then the paper's bias of 0.6 for comparison:");
        md.AppendLine();
        var shown = results.OrderByDescending(r => r.Accuracy).ThenBy(r => r.Bias).Take(10)
            .Concat(results.Where(r => r.Bias == 0.6 && r.Lambda == 1 && r.Trust == lab.Config.Teacher.Trust)).ToList();
        md.AppendLine(MarkdownTable.Render(["trust", "bias", "delta", "lambda", "accuracy"],
            shown.Select(r => (IReadOnlyList<string>)[F($"{r.Trust}"), F($"{r.Bias}"), F($"{r.Delta}"), F($"{r.Lambda}"), F($"{100 * r.Accuracy:0.0} %")]),
            [ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric]));
        return (md.ToString(), note);
    }

    private static async Task<ExperimentReport> IterationsAsync(Lab lab, int seeds, string command, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        const int iterations = 3;
        var accuracies = Enumerable.Range(0, iterations + 1).Select(_ => new List<double>()).ToList();
        var perSkill = new SortedDictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        var skillSums = Enumerable.Range(0, iterations + 1).Select(_ => new SortedDictionary<string, double>(StringComparer.Ordinal)).ToList();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var config = Clone(lab.Config);
            config.Iterations = iterations;
            config.Seed = lab.Config.Seed + seed;
            config.Name = $"{lab.Config.Name}-iterations-s{seed}";
            config.Validation = new DataSplitConfig { Profile = lab.Config.Validation.Profile, Count = lab.Config.Validation.Count, Seed = lab.Config.Validation.Seed + 1000L * seed };
            var runner = new CampaignRunner(config, Path.Combine(lab.Output, $"campaign-s{seed}"), lab.ConfigDirectory);
            var result = await runner.RunAsync(lab.Progress, ct).ConfigureAwait(false);
            var r = result.Report;
            accuracies[0].Add(r.BaseTestAccuracy);
            foreach (var (skill, acc) in r.BasePerSkill) skillSums[0][skill] = skillSums[0].GetValueOrDefault(skill) + acc / seeds;
            double current = r.BaseTestAccuracy;
            var currentSkills = r.BasePerSkill;
            foreach (var it in r.Iterations)
            {
                // The student after iteration k is the promoted one: the new model if it was better, else the previous.
                if (it.Promoted) (current, currentSkills) = (it.TestAfter, it.PerSkillAfter);
                accuracies[it.Iteration].Add(current);
                foreach (var (skill, acc) in currentSkills) skillSums[it.Iteration][skill] = skillSums[it.Iteration].GetValueOrDefault(skill) + acc / seeds;
            }
        }
        var rows = Enumerable.Range(0, iterations + 1).Select(k => ArmRow.Of(k == 0 ? "base" : $"iteration {k}", lab.Config.Budget.Samples * k, accuracies[k])).ToList();
        for (int k = 0; k <= iterations; k++) perSkill[k == 0 ? "base" : $"iteration {k}"] = skillSums[k];
        var findings = new List<string>
        {
            F($"Test accuracy of the promoted student: {string.Join(" -> ", rows.Select(r => $"{100 * r.Mean:0.0} ± {100 * r.Sd:0.0} %"))}."),
        };
        return Report("iterations", "Does repeating the loop keep helping? Three iterations of the demo campaign; accuracy per skill per iteration (n = samples added so far).",
            command, seeds, lab, rows, perSkill, findings,
            [F($"Each seed runs the campaign with its own seed and validation split; {lab.Config.Budget.Samples} samples and {lab.Config.Budget.TrainSteps} steps per iteration. Full campaign reports (with SVG charts) are in campaign-s*/.")],
            watch.Elapsed);
    }

    private static ExperimentReport Report(string name, string question, string command, int seeds, Lab lab, IReadOnlyList<ArmRow> rows,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> perSkill, IReadOnlyList<string> findings, IReadOnlyList<string> notes,
        TimeSpan elapsed, string? extra = null, string metric = "test accuracy")
    {
        if (lab.CachedRuns.Count > 0)
            notes = [.. notes, F($"{lab.CachedRuns.Count} arm run(s) were taken from the run cache; they took {lab.CachedRuns.Sum(r => r.Seconds):0} s when they ran, which the time above does not include.")];
        var report = new ExperimentReport(name, question, command, seeds, lab.BaseReport.OverallAccuracy, $"{lab.BaseInfo.Source} ({lab.BaseInfo.Path})",
            rows, perSkill, findings, notes, Math.Round(elapsed.TotalSeconds, 1), extra);
        ExperimentReportWriter.Write(lab.Output, report, metric);
        return report;
    }

    private static List<ArmRow> Rows(IEnumerable<ArmRun> runs) =>
        [.. runs.GroupBy(r => (r.Arm, r.N)).Select(g => ArmRow.Of(g.Key.Arm, g.Key.N, [.. g.OrderBy(r => r.Seed).Select(r => r.Accuracy)]))];

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PerSkill(IEnumerable<ArmRun> runs)
    {
        var result = new SortedDictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var g in runs.GroupBy(r => $"{r.Arm} n={r.N}"))
        {
            var skills = g.SelectMany(r => r.PerSkill.Keys).Distinct().Order(StringComparer.Ordinal);
            result[g.Key] = skills.ToDictionary(k => k, k => Math.Round(g.Average(r => r.PerSkill.GetValueOrDefault(k)), 6), StringComparer.Ordinal);
        }
        return result;
    }

    private static CampaignConfig Clone(CampaignConfig config) =>
        System.Text.Json.JsonSerializer.Deserialize<CampaignConfig>(System.Text.Json.JsonSerializer.Serialize(config, CampaignJson.Options), CampaignJson.Options)!;

    private static long SeedOf(string arm, int n, int seed) => Common.StableHash.Seed("lab", arm, n.ToString(CultureInfo.InvariantCulture), seed.ToString(CultureInfo.InvariantCulture));

    private static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? 0 : list.Average();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
