using System.CommandLine;
using FailureSynth.ApiSecurity;
using FailureSynth.Loop.Student;
using FailureSynth.Loop.Teacher;
using FailureSynth.Serving;
using FailureSynth.TinyVlm;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth serve student|teacher</c>: our embedded models on the OpenAI chat-completions protocol, on loopback.</summary>
public static class ServeCommands
{
    public static Command Create() => new("serve", "Serve an embedded model as an OpenAI-compatible endpoint on 127.0.0.1 (POST /v1/chat/completions, GET /v1/models).")
    {
        CreateStudent(),
        CreateTeacher(),
    };

    private static Option<int> Port() => new("--port") { Description = "Port on 127.0.0.1 (0: any free port, printed at start).", Required = true };

    private static Option<string?> KeyVariable() => new("--api-key-env")
    {
        Description = "Environment variable holding the API key clients must send (Authorization: Bearer KEY; at least 16 characters). " +
            "Without it a random key is made up and printed once, here only.",
    };

    /// <summary>The key from the named variable (never from the command line: that shows in the process list).</summary>
    private static ApiKey Key(string variable)
    {
        string? key = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(key)) throw new ArgumentException($"--api-key-env names '{variable}', which is not set; export it (at least {ApiKey.MinimumLength} characters).");
        if (key.Length < ApiKey.MinimumLength) throw new ArgumentException($"The key in {variable} has {key.Length} characters; use at least {ApiKey.MinimumLength}.");
        return new ApiKey(key);
    }

    private static Command CreateStudent()
    {
        var model = new Option<FileInfo>("--model") { Description = "TinyVLM checkpoint (.safetensors) to serve.", Required = true };
        var port = Port();
        var threads = new Option<int>("--threads") { Description = "Compute threads (0: every core).", DefaultValueFactory = _ => 0 };
        var key = KeyVariable();
        var loading = new Option<bool>("--allow-loading")
        {
            Description = "Also answer POST /v1/load_lora_adapter as vLLM does ({\"lora_name\", \"lora_path\"}): load the TinyVLM checkpoint at that server-side path " +
                "(a .safetensors file, or a folder holding model.safetensors) and serve it as model lora_name. For campaigns with student.reload.",
        };
        var command = new Command("student", "Serve a TinyVLM checkpoint: one PNG image (data URI) and one question per request; the answer with log-probabilities.") { model, port, threads, key, loading };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            var file = parse.GetValue(model)!;
            if (!file.Exists) throw new FileNotFoundException($"Checkpoint '{file.FullName}' does not exist.", file.FullName);
            int t = parse.GetValue(threads);
            var context = StudentCompute.CreateContext(t == 0 ? Environment.ProcessorCount : t);
            var student = EmbeddedStudent.Of(TinyVlmStudent.Load(file.FullName, context));
            Func<string, string, CancellationToken, Task<IChatModel>>? load = parse.GetValue(loading)
                ? (name, path, _) => Task.FromResult<IChatModel>(new StudentChatModel(TinyVlmStudent.Load(CheckpointAt(path), context), name))
                : null;
            return await ServeAsync(new StudentChatModel(student.Model, student.ModelVersion), parse.GetValue(port), parse.GetValue(key), cancellationToken, load: load);
        }));
        return command;
    }

    private static Command CreateTeacher()
    {
        var port = Port();
        var seed = new Option<long>("--seed") { Description = "The embedded teacher's seed (a campaign's teacher.seed).", DefaultValueFactory = _ => 17 };
        var trust = new Option<double>("--trust") { Description = "teacher.trust", DefaultValueFactory = _ => 0.97 };
        var noise = new Option<double>("--proposal-noise") { Description = "teacher.proposal_noise", DefaultValueFactory = _ => 0.05 };
        var prior = new Option<int>("--prior-samples") { Description = "teacher.prior_samples", DefaultValueFactory = _ => 30_000 };
        var key = KeyVariable();
        var described = new Option<bool>("--image-descriptions")
        {
            Description = $"Also serve POST /v1/images/generations (model '{ShapesWorldImageModel.ModelId}', ShapesWorld renders of scene descriptions, b64_json) and write about half the proposals as image descriptions instead of scenes: the offline double for images.backend openai.",
        };
        var programs = new Option<string[]>("--programs")
        {
            Description = "provenance.jsonl files (or folders holding one) of ShapesWorld datasets written by `world generate`: questions sent as text only " +
                "(campaigns on dataset files) are answered with the program of the same text. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("teacher", "Serve the embedded teacher: scores as label log-probabilities, diagnoses, proposals and verdicts as JSON, for FailureSynth's teacher prompts.") { port, seed, trust, noise, prior, key, described, programs };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(parse.GetValue(seed), parse.GetValue(trust), parse.GetValue(noise), parse.GetValue(prior)));
            var pictures = parse.GetValue(described) ? new DrawnPictures() : null;
            var known = parse.GetValue(programs) is { Length: > 0 } files ? QuestionPrograms.Load(files) : null;
            if (known is not null) Console.WriteLine($"Knows the programs of {known.Count} question texts (--programs).");
            return await ServeAsync(new TeacherChatModel(teacher, pictures, known), parse.GetValue(port), parse.GetValue(key), cancellationToken, pictures is null ? null : new ShapesWorldImageModel(pictures));
        }));
        return command;
    }

    // A load request's path: a checkpoint file, or the folder a training command wrote (its model.safetensors, or its only .safetensors).
    private static string CheckpointAt(string path)
    {
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new FileNotFoundException($"neither a file nor a folder exists there", path);
        string named = Path.Combine(path, "model.safetensors");
        if (File.Exists(named)) return named;
        var found = Directory.GetFiles(path, "*.safetensors");
        return found.Length == 1 ? found[0] : throw new InvalidDataException($"the folder holds {found.Length} .safetensors files and no model.safetensors; name the file");
    }

    private static async Task<int> ServeAsync(IChatModel model, int port, string? keyVariable, CancellationToken cancellationToken, IImageModel? images = null,
        Func<string, string, CancellationToken, Task<IChatModel>>? load = null)
    {
        if (port is < 0 or > 65535) throw new ArgumentException($"--port {port} must be 0..65535.");
        // Checked before the port is taken; a made-up key is printed after the address line, which scripts read first.
        ApiKey? key = keyVariable is null ? null : Key(keyVariable);
        var announced = new StringWriter();
        if (key is null) key = new ApiKey(ApiKey.Announce("API", "--api-key-env is not given", "clients send it as 'Authorization: Bearer KEY'; name a variable with --api-key-env to choose one", announced));
        await using var app = await OpenAIEndpoints.StartAsync(model, port, cancellationToken: cancellationToken, key: key, images: images, load: load);
        Console.WriteLine($"Serving model '{model.Id}' at {OpenAIEndpoints.BaseAddress(app)}v1 (POST /v1/chat/completions, GET /v1/models). Ctrl+C stops.");
        if (images is not null) Console.WriteLine($"Serving image model '{images.Id}' at {OpenAIEndpoints.BaseAddress(app)}v1 (POST /v1/images/generations, b64_json).");
        if (load is not null) Console.WriteLine($"Loading models on request at {OpenAIEndpoints.BaseAddress(app)}v1/load_lora_adapter (--allow-loading).");
        Console.Write(announced.ToString());
        Console.Out.Flush();
        try { await Task.Delay(Timeout.Infinite, cancellationToken); }
        catch (OperationCanceledException) { }
        await app.StopAsync(CancellationToken.None);
        return 0;
    }
}
