namespace FailureSynth.Tensors;

/// <summary>Learning rate as a function of the optimiser step (0-based).</summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate to use for step <paramref name="step"/>.</summary>
    float LearningRateAt(int step);
}

/// <summary>The same learning rate at every step.</summary>
public sealed record ConstantSchedule(float LearningRate) : ILearningRateSchedule
{
    /// <inheritdoc />
    public float LearningRateAt(int step) => LearningRate;
}

/// <summary>
/// Linear warm-up from peak/warmup to the peak over <see cref="WarmupSteps"/> steps, then cosine decay to
/// <see cref="MinLearningRate"/> at <see cref="TotalSteps"/> (and constant after).
/// </summary>
public sealed record WarmupCosineSchedule(float PeakLearningRate, int WarmupSteps, int TotalSteps, float MinLearningRate = 0f) : ILearningRateSchedule
{
    /// <inheritdoc />
    public float LearningRateAt(int step)
    {
        if (step < WarmupSteps)
        {
            return PeakLearningRate * (step + 1) / WarmupSteps;
        }

        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0.0, 1.0);
        return (float)(MinLearningRate + 0.5 * (PeakLearningRate - MinLearningRate) * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
