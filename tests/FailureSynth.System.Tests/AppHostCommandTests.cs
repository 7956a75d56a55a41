using FailureSynth.AppHost;

namespace FailureSynth.SystemTests;

/// <summary>The AppHost's command line for the synthesis bench: its options are read, and refused where they do not belong.</summary>
public sealed class AppHostCommandTests
{
    [Fact]
    public void The_bench_reads_its_window_and_dataset_options()
    {
        var command = AppHostCommand.Parse(["bench-synthesis", "--proposals", "553992", "--window", "512", "--write-dataset", "--work-ms", "20", "--warmup", "50000"]);
        Assert.Equal(("bench-synthesis", 553992, 512, true, 20, 50000), (command.Kind, command.Proposals, command.Window, command.WriteDataset, command.WorkMs, command.WarmUp));
        var plain = AppHostCommand.Parse(["bench-synthesis"]);
        Assert.Equal((null, false, null), (plain.Window, plain.WriteDataset, plain.WarmUp));
        Assert.Equal(0, AppHostCommand.Parse(["bench-synthesis", "--warmup", "0"]).WarmUp);
    }

    [Theory]
    [InlineData("--window must be a whole number of proposals per request from 1 to 100000 (got '0').", "bench-synthesis", "--window", "0")]
    [InlineData("--window must be a whole number of proposals per request from 1 to 100000 (got 'many').", "bench-synthesis", "--window", "many")]
    [InlineData("--warmup must be a whole number of proposals from 0 to 1000000 (got '-5').", "bench-synthesis", "--warmup", "-5")]
    [InlineData("--warmup must be a whole number of proposals from 0 to 1000000 (got '2000000').", "bench-synthesis", "--warmup", "2000000")]
    [InlineData("--batch, --work-ms, --window, --warmup and --write-dataset belong to bench-synthesis.", "--write-dataset")]
    [InlineData("--batch, --work-ms, --window, --warmup and --write-dataset belong to bench-synthesis.", "--window", "64")]
    [InlineData("--batch, --work-ms, --window, --warmup and --write-dataset belong to bench-synthesis.", "--warmup", "100")]
    public void Bad_bench_options_are_refused_with_the_reason(string reason, params string[] args) =>
        Assert.Equal(reason, Assert.Throws<ArgumentException>(() => AppHostCommand.Parse(args)).Message);
}
