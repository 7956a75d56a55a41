using System.Diagnostics;
using System.Globalization;

namespace FailureSynth.Fuzzing;

/// <summary>
/// Runs one target on seeded mutated inputs. Each input must be accepted or refused with the target's documented
/// exception, within <see cref="FuzzLimits.Hang"/> and the target's allocation bound; anything else is a finding,
/// kept with its input cut down to the smallest one that still fails the same way.
/// </summary>
public sealed class Fuzzer(FuzzTarget target, long seed, FuzzLimits? limits = null)
{
    private readonly FuzzLimits _limits = limits ?? FuzzLimits.Default;

    /// <summary>Runs until <paramref name="inputs"/> inputs or <paramref name="duration"/> have passed, whichever comes first.</summary>
    public FuzzReport Run(long inputs, TimeSpan duration, int maxFindings = 20, Action<string>? progress = null)
    {
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var mutator = new Mutator(target, random);
        var findings = new List<FuzzFinding>();
        var signatures = new HashSet<string>(StringComparer.Ordinal);
        long done = 0, accepted = 0, refused = 0, maxAllocated = 0;
        double maxMilliseconds = 0;
        var watch = Stopwatch.StartNew();
        long currentStart = -1;
        byte[]? current = null;
        bool stop = false;
        var lastProgress = TimeSpan.Zero;

        // The inputs run on their own thread, so that one that never returns can be reported instead of waited for.
        var worker = new Thread(() =>
        {
            IEnumerable<byte[]> Inputs()
            {
                foreach (byte[] s in target.Seeds) yield return s;
                while (true) yield return mutator.Next();
            }
            foreach (byte[] input in Inputs())
            {
                if (Volatile.Read(ref stop) || done >= inputs || watch.Elapsed >= duration || findings.Count >= maxFindings) break;
                Volatile.Write(ref current, input);
                Interlocked.Exchange(ref currentStart, watch.ElapsedTicks);
                var outcome = Execute(input);
                Interlocked.Exchange(ref currentStart, -1);
                done++;
                if (outcome.Accepted) accepted++;
                else if (outcome.Finding is null) refused++;
                maxAllocated = Math.Max(maxAllocated, outcome.Allocated);
                maxMilliseconds = Math.Max(maxMilliseconds, outcome.Milliseconds);
                if (outcome.Finding is { } kind && signatures.Add(outcome.Signature!))
                {
                    byte[] minimal = kind == "crash" ? Minimize(input, outcome.Signature!) : input;
                    lock (findings) findings.Add(new FuzzFinding(target.Name, kind, outcome.Signature!, outcome.Detail!, minimal, done));
                }
                if (progress is not null && watch.Elapsed - lastProgress > TimeSpan.FromSeconds(30))
                {
                    lastProgress = watch.Elapsed;
                    progress(string.Create(CultureInfo.InvariantCulture, $"{target.Name}: {done} inputs, {watch.Elapsed.TotalSeconds:0} s, {findings.Count} findings"));
                }
            }
        })
        { IsBackground = true, Name = $"fuzz {target.Name}" };
        worker.Start();
        while (!worker.Join(100))
        {
            long started = Interlocked.Read(ref currentStart);
            if (started >= 0 && TimeSpan.FromTicks((long)((watch.ElapsedTicks - started) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency))) > _limits.Hang)
            {
                // The thread cannot be stopped from outside; it is left running (a background thread) and the run ends.
                Volatile.Write(ref stop, true);
                lock (findings) findings.Add(new FuzzFinding(target.Name, "hang", "hang", $"no answer within {_limits.Hang.TotalSeconds:0} s", Volatile.Read(ref current)!, done + 1));
                break;
            }
        }
        lock (findings)
            return new FuzzReport(target.Name, seed, done, accepted, refused, watch.Elapsed, maxAllocated, maxMilliseconds, [.. findings]);
    }

    private readonly record struct Outcome(bool Accepted, string? Finding, string? Signature, string? Detail, long Allocated, double Milliseconds);

    private Outcome Execute(byte[] input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        Exception? thrown = null;
        try
        {
            target.Parse(input);
        }
        catch (Exception e)
        {
            thrown = e;
        }
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (thrown is not null && !target.IsRefusal(thrown))
        {
            string signature = Signature(thrown);
            return new Outcome(false, "crash", signature, thrown.ToString(), allocated, ms);
        }
        long bound = target.AllocationBound(input.Length);
        if (allocated > bound)
        {
            return new Outcome(false, "allocation", $"allocation {(thrown is null ? "accepted" : "refused")}",
                $"{allocated} bytes allocated for a {input.Length}-byte input; the bound is {bound}", allocated, ms);
        }
        return new Outcome(thrown is null, null, null, null, allocated, ms);
    }

    /// <summary>Exception type and the frame that threw: two inputs with the same signature are the same bug.</summary>
    public static string Signature(Exception e)
    {
        var frame = new StackTrace(e, false).GetFrames().FirstOrDefault(f => f.GetMethod() is not null);
        var method = frame?.GetMethod();
        return $"{e.GetType().Name} at {method?.DeclaringType?.Name}.{method?.Name}";
    }

    /// <summary>Removes ranges, halving their size, while the input still fails with the same signature.</summary>
    public byte[] Minimize(byte[] input, string signature)
    {
        byte[] best = input;
        int attempts = 0;
        for (int chunk = Math.Max(1, best.Length / 2); chunk >= 1 && attempts < 3000; chunk /= 2)
        {
            for (int at = 0; at + chunk <= best.Length && attempts < 3000;)
            {
                attempts++;
                byte[] candidate = [.. best.AsSpan(0, at), .. best.AsSpan(at + chunk)];
                var outcome = Execute(candidate);
                if (outcome.Finding == "crash" && outcome.Signature == signature) best = candidate;
                else at += chunk;
            }
        }
        return best;
    }
}
