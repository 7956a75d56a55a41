// The AppHost will model and start RabbitMQ, Redis and the FailureSynth services the way an
// Aspire AppHost does (ARCHITECTURE §6). Until the services exist, the whole loop runs
// in-process through the `failuresynth` command; say so instead of pretending to start anything.
Console.Error.WriteLine(
    "FailureSynth.AppHost: no services are defined yet. Run the in-process tools instead:\n" +
    "  ./run.sh                                    (the demo job)\n" +
    "  dotnet run --project tools/FailureSynth.Cli -- --help");
return 2;
