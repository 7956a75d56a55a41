using System.Text.Json.Nodes;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Serving;

namespace FailureSynth.Backends.Tests;

/// <summary>The Semantic Kernel teacher, the OpenAI student and the image client against replies recorded in real providers' wire formats.</summary>
public sealed class ReplayTests
{
    private static readonly TeacherQuestion Question = new("What colour is the large circle?", "query", null);
    private readonly List<TimeSpan> _slept = [];

    private static ModelEndpoint Endpoint(ReplayServer server, double timeoutS = 30, string? keyEnv = null, string role = "teacher") =>
        new(role, "semantic-kernel", new Uri(server.Endpoint), "gpt-4o-2024-08-06", keyEnv, TimeSpan.FromSeconds(timeoutS), 2);

    private SemanticKernelTeacher Teacher(ReplayServer server, ICallCache? cache = null, double timeoutS = 30, string? keyEnv = null) =>
        new(Endpoint(server, timeoutS, keyEnv), cache, sleep: (t, _) => { lock (_slept) _slept.Add(t); return Task.CompletedTask; });

    [Fact]
    public async Task OpenAI_logprobs_score_each_label_at_double_precision_summing_whitespace_variants()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("openai-chat-score.json"));
        using var teacher = Teacher(server);
        var scores = await teacher.ScoreAnswersAsync(Question, ["red", "blue"], [new StepAnswer(1, "Is there a large circle?", "yes", 0.9)], new BiasedPrior("blue", 0.2), default);

        Assert.Equal(Math.Exp(-0.10536051565782628) + Math.Exp(-6.907755278982137), scores[0]);
        Assert.Equal(Math.Exp(-2.3025850929940455), scores[1]);
        var request = JsonNode.Parse(Assert.Single(server.Requests).Body)!;
        Assert.Equal("/v1/chat/completions", Assert.Single(server.Requests).Path);
        Assert.True(request["logprobs"]!.GetValue<bool>());
        Assert.Equal(2, request["top_logprobs"]!.GetValue<int>());
        var messages = request["messages"]!.AsArray();
        Assert.Equal(["system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        string user = Text(messages[1]!);
        var task = TeacherTasks.Extract(user);
        Assert.Equal("score_answers", task["task"]!.GetValue<string>());
        Assert.Equal("B", task["candidates"]![1]!["label"]!.GetValue<string>());
        Assert.Equal(0.9, task["steps"]![0]!["confidence"]!.GetValue<double>());
        var call = Assert.Single(teacher.Log.Calls);
        Assert.Equal(("ok", 412, 1, 1), (call.Outcome, call.PromptTokens, call.CompletionTokens, call.HttpAttempts));
    }

    [Fact]
    public async Task VLLM_logprobs_score_labels_and_read_its_log_zero_as_exactly_zero()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("vllm-chat-score.json"));
        using var teacher = Teacher(server);
        var scores = await teacher.ScoreAnswersAsync(Question, ["red", "blue", "green"], [], null, default);
        Assert.Equal([Math.Exp(-0.916290731874155), Math.Exp(-0.6931471805599453), 0.0], scores);
    }

    [Fact]
    public async Task A_cached_call_is_answered_without_the_endpoint()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("openai-chat-score.json"));
        var cache = new InMemoryCallCache();
        using var first = Teacher(server, cache);
        var a = await first.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default);
        using var second = Teacher(server, cache);
        var b = await second.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default);
        Assert.Equal(a, b);
        Assert.Single(server.Requests);
        Assert.Equal("cached", Assert.Single(second.Log.Calls).Outcome);
        // A different prompt is a different key.
        await second.ScoreAnswersAsync(Question, ["red", "cyan"], [], null, default);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Rate_limited_calls_wait_as_Retry_After_says_then_succeed()
    {
        await using var server = await ReplayServer.StartAsync((i, _) => i switch
        {
            0 => Recorded.File("openai-error-429.json", 429, ("retry-after", "2")),
            1 => Recorded.File("openai-error-429.json", 429, ("retry-after-ms", "348")),
            _ => Recorded.File("openai-chat-score.json"),
        });
        using var teacher = Teacher(server);
        var scores = await teacher.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default);
        Assert.Equal(Math.Exp(-2.3025850929940455), scores[1]);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(348)], _slept);
        Assert.Equal(3, Assert.Single(teacher.Log.Calls).HttpAttempts);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_and_give_up_after_the_attempt_limit()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("openai-error-500.json", 500));
        using var teacher = Teacher(server);
        var e = await Assert.ThrowsAsync<TeacherEndpointException>(() => teacher.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default));
        Assert.Contains("HTTP 500", e.Message, StringComparison.Ordinal);
        Assert.Contains("The server had an error", e.Message, StringComparison.Ordinal);
        // Each of the 3 replies asked for got 4 HTTP attempts, with growing waits between them.
        Assert.Equal(SemanticKernelTeacher.ReplyAttempts * EndpointHandler.MaxAttempts, server.Requests.Count);
        Assert.Equal([TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1000)], _slept.Take(3));
        Assert.Equal("rejected", Assert.Single(teacher.Log.Calls).Outcome);
    }

    [Fact]
    public async Task A_truncated_structured_reply_is_asked_again_then_recorded_as_a_rejection()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("openai-chat-diagnosis-truncated.json"));
        using var teacher = Teacher(server);
        var failure = new Failure("fail-1", "s-1", Question, "cyan", "blue", [new StepAnswer(1, "What colour is the large circle?", "blue", 0.6)], []);
        var diagnosis = await teacher.DiagnoseSkillAsync(failure, new LocatedStep(1, "What colour is the large circle?", "blue", "answer-switch", false), default);
        Assert.Null(diagnosis.SkillKey);
        Assert.Equal("the skill the question 'What colour is the large circle?' needs", diagnosis.Text);
        Assert.Equal(SemanticKernelTeacher.ReplyAttempts, server.Requests.Count);
        var call = Assert.Single(teacher.Log.Calls);
        Assert.Equal("rejected", call.Outcome);
        Assert.StartsWith("not valid JSON", call.Reason, StringComparison.Ordinal);
        // The schema went out as OpenAI's strict json_schema response format.
        var format = JsonNode.Parse(server.Requests.First().Body)!["response_format"]!;
        Assert.Equal("json_schema", format["type"]!.GetValue<string>());
        Assert.True(format["json_schema"]!["strict"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_truncated_HTTP_body_is_a_bad_reply_not_a_crash()
    {
        string whole = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Recorded", "openai-chat-score.json"));
        await using var server = await ReplayServer.StartAsync((_, _) => new Recorded(200, whole[..(whole.Length / 2)]));
        using var teacher = Teacher(server);
        var e = await Assert.ThrowsAsync<TeacherEndpointException>(() => teacher.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default));
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
        Assert.Equal(SemanticKernelTeacher.ReplyAttempts, server.Requests.Count);
    }

    [Fact]
    public async Task A_refused_key_stops_at_once_and_no_key_reaches_a_message_or_the_log()
    {
        const string Variable = "FS_BACKENDS_TEST_KEY";
        Environment.SetEnvironmentVariable(Variable, "sk-test1ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456cdef");
        try
        {
            await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("openai-error-401.json", 401));
            using var teacher = Teacher(server, keyEnv: Variable);
            var e = await Assert.ThrowsAsync<TeacherEndpointException>(() => teacher.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default));
            Assert.Contains("HTTP 401: Incorrect API key provided: [key redacted]", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("sk-test1", e.Message, StringComparison.Ordinal);
            Assert.Single(server.Requests);
            Assert.Equal("Bearer sk-test1ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456cdef", server.Requests.First().Authorization);
            string log = Path.GetTempFileName();
            teacher.Log.WriteJsonLines(log);
            Assert.DoesNotContain("sk-test1", File.ReadAllText(log), StringComparison.Ordinal);
            File.Delete(log);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }

    [Theory]
    [InlineData("vllm-error-404.json", 404, "The model `gpt-4o` does not exist.")]
    [InlineData("vllm-error-400-old.json", 400, "maximum context length is 4096 tokens")]
    public async Task VLLM_error_bodies_old_and_new_name_the_problem(string file, int status, string expected)
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File(file, status));
        using var teacher = Teacher(server);
        var e = await Assert.ThrowsAsync<TeacherEndpointException>(() => teacher.ScoreAnswersAsync(Question, ["red", "blue"], [], null, default));
        Assert.Contains($"HTTP {status}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hanging_endpoint_times_out_per_attempt_and_the_call_ends()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => new Recorded(200, "{}", Delay: TimeSpan.FromSeconds(30)));
        using var teacher = Teacher(server, timeoutS: 0.2);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var verdict = await teacher.JudgeAsync(new SampleProposal("prop-0123456789abcdef", null, null, "a red circle", "Is there a red circle?", "yes", [], null), new RgbImage(8, 8), default);
        Assert.Equal(1, verdict.Score);
        Assert.Contains("did not answer within 0.2 s", verdict.Reason, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), "the call waited for the hanging server");
    }

    [Fact]
    public async Task Student_reads_a_multi_token_vLLM_answer_as_the_joint_probability_of_its_tokens()
    {
        await using var server = await ReplayServer.StartAsync((_, _) => Recorded.File("vllm-chat-student.json"));
        using var student = new OpenAIStudent(Endpoint(server, role: "student") with { Backend = "openai" });
        var reply = Assert.Single(await student.AnswerAsync([new StudentQuery("s-1", "What shape is the red object?", null, new RgbImage(64, 64))], StudentMode.Direct, default));
        Assert.Equal("cylinder", reply.Answer);
        Assert.Equal(Math.Exp(-0.2231435513142097 + -0.010050335853501506 + -0.05129329438755058), reply.Probability);
        Assert.Equal(-1.6094379124341003, reply.CandidateLogProbabilities["cube"]);
        var content = JsonNode.Parse(server.Requests.First().Body)!["messages"]![0]!["content"]!.AsArray();
        Assert.StartsWith("data:image/png;base64,", content[0]!["image_url"]!["url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("What shape is the red object?", content[1]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Image_endpoint_replies_are_decoded_from_b64_json_and_URL_only_replies_refused()
    {
        var png = Convert.ToBase64String(PngEncoder.Encode(new RgbImage(64, 64)));
        await using var server = await ReplayServer.StartAsync((i, _) => i == 0
            ? new Recorded(200, "{\"created\":1733500004,\"data\":[{\"b64_json\":\"" + png + "\",\"revised_prompt\":\"A red circle on a grey background.\"}],\"usage\":{\"total_tokens\":0}}")
            : new Recorded(200, """{"created":1733500005,"data":[{"url":"https://example.invalid/img.png"}]}"""));
        using var images = new OpenAIImageSynth(Endpoint(server, role: "images") with { Backend = "openai" });
        var image = await images.GenerateAsync("a red circle", 64, default);
        Assert.Equal((64, 64), (image.Width, image.Height));
        var request = JsonNode.Parse(server.Requests.First().Body)!;
        Assert.Equal(("/v1/images/generations", "b64_json", "64x64"), (server.Requests.First().Path, request["response_format"]!.GetValue<string>(), request["size"]!.GetValue<string>()));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => images.GenerateAsync("a red circle", 64, default));
        Assert.Contains("no b64_json image", e.Message, StringComparison.Ordinal);
    }

    internal static string Text(JsonNode message) => message["content"] is JsonArray parts
        ? string.Join("\n", parts.Where(p => p!["type"]!.GetValue<string>() == "text").Select(p => p!["text"]!.GetValue<string>()))
        : message["content"]!.GetValue<string>();
}
