using FailureSynth.Loop.Contracts;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;

// The served student keeps the Serving namespace it was written in (callers import FailureSynth.Serving for every
// served model); it lives here so FailureSynth.Serving, which the teacher side uses, does not reach TinyVLM.
namespace FailureSynth.Serving;

/// <summary>
/// TinyVLM as an OpenAI-compatible vision model: one PNG image and one question per request; the answer is one
/// token (a word of the answer vocabulary) whose log-probability and top alternatives come from the model's
/// distribution over the whole vocabulary. Reasoning steps are separate requests, as for any chat VLM.
/// </summary>
public sealed class StudentChatModel(TinyVlmStudent student, string id) : IChatModel
{
    public const int MaxQuestionChars = 2000;
    private readonly Lock _gate = new();

    public string Id { get; } = id;

    public Task<ChatAnswer> CompleteAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        var images = request.Images;
        if (images.Count != 1)
            throw ChatRequest.Invalid($"The user message must carry exactly one image (an image_url part with a PNG data URI); it carries {images.Count}.", "messages");
        int size = student.Model.Config.ImageSize;
        if (images[0].Width != size || images[0].Height != size)
            throw ChatRequest.Invalid($"The image is {images[0].Width}x{images[0].Height}; this model reads {size}x{size} images.", "messages", "invalid_image");
        string question = request.UserText.Trim();
        if (question.Length == 0) throw ChatRequest.Invalid("The user message carries no question text.", "messages");
        if (question.Length > MaxQuestionChars) throw ChatRequest.Invalid($"The question has {question.Length} characters; at most {MaxQuestionChars}.", "messages");
        cancellationToken.ThrowIfCancellationRequested();
        StudentAnswer answer;
        // One model, not thread-safe: requests take turns.
        lock (_gate) answer = student.AnswerAll([new StudentExample("request", images[0], question, "", null, [], [], null)], AnswerMode.Direct)[0];

        var vocabulary = student.Answers.Answers;
        int best = 0;
        for (int c = 1; c < answer.LogProbabilities.Count; c++) if (answer.LogProbabilities[c] > answer.LogProbabilities[best]) best = c;
        // Ties by vocabulary order, as the model's own choice of answer.
        var top = Enumerable.Range(0, vocabulary.Count).OrderByDescending(c => answer.LogProbabilities[c]).ThenBy(c => c).Take(request.TopLogprobs)
            .Select(c => new TopLogprob(vocabulary[c], answer.LogProbabilities[c], OpenAIWire.Utf8(vocabulary[c]))).ToList();
        var token = new TokenLogprob(vocabulary[best], answer.LogProbabilities[best], OpenAIWire.Utf8(vocabulary[best]), top);
        return Task.FromResult(new ChatAnswer(vocabulary[best], [token], OpenAIWire.EstimateTokens(question) + 1));
    }
}
