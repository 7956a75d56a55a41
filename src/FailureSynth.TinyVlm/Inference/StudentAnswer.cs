namespace FailureSynth.TinyVlm.Inference;

/// <summary>How the student answers: the whole question at once, or step by step along ShapesWorld's decomposition.</summary>
public enum AnswerMode
{
    /// <summary>One pass over the whole question.</summary>
    Direct,

    /// <summary>Answer each reasoning step in turn (later steps phrased from the student's own earlier answers) and compose the final answer from the step answers.</summary>
    Reasoning,
}

/// <summary>One step of the student's rationale: the step question it was asked, its answer and how sure it was.</summary>
/// <param name="Index">Step number, from 1.</param>
/// <param name="Question">The step question as asked (quoting the student's own earlier answers where the step depends on them).</param>
/// <param name="Answer">The student's most likely answer.</param>
/// <param name="Probability">Probability of <paramref name="Answer"/>.</param>
/// <param name="LogProbabilities">Log-probability of every answer of the vocabulary, in vocabulary order.</param>
public sealed record StudentStep(int Index, string Question, string Answer, float Probability, IReadOnlyList<float> LogProbabilities);

/// <summary>
/// What the student says about one question: its answer, the full distribution over the answer vocabulary
/// for the question asked directly, and in reasoning mode its rationale.
/// </summary>
/// <param name="Answer">Final answer: the most likely answer in direct mode; in reasoning mode the answer composed from the step answers.</param>
/// <param name="Probability">Probability the direct distribution gives <paramref name="Answer"/>.</param>
/// <param name="LogProbabilities">Log-probability of every answer for the whole question, in vocabulary order (see <see cref="TinyVlmStudent.Answers"/>).</param>
/// <param name="Mode">The mode that produced the answer.</param>
/// <param name="Steps">The rationale in reasoning mode; empty in direct mode.</param>
/// <param name="Composed">Reasoning mode: true when the final answer was composed from the step answers, false when they did not fit the program's layout (then the last step's answer is used).</param>
public sealed record StudentAnswer(
    string Answer,
    float Probability,
    IReadOnlyList<float> LogProbabilities,
    AnswerMode Mode,
    IReadOnlyList<StudentStep> Steps,
    bool Composed);
