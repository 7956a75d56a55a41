using System.CommandLine;
using FailureSynth.Cli.Commands;

// The TorchSharp engine (--engine torchsharp); libtorch itself loads only when it is chosen.
FailureSynth.TinyVlm.Torch.TorchStudentEngine.Register();

// `failuresynth`: the FailureSynth loop and its data tools, in-process.
var root = new RootCommand("FailureSynth: a failure-driven data engine for vision-language models.")
{
    WorldCommands.Create(),
    DatasetCommands.Create(),
    BenchCommands.Create(),
    StudentCommands.Create(),
    CampaignCommands.Create(),
    ExperimentCommands.Create(),
    FuzzCommands.Create(),
    ServeCommands.Create(),
};
return await root.Parse(args).InvokeAsync();
