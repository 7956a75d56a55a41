using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailureSynth.TinyVlm;

/// <summary>
/// The architecture of a TinyVLM: every size that shapes its tensors. It is stored in the checkpoint's
/// metadata, so a checkpoint rebuilds its own model, and the PyTorch reference reads the same JSON.
/// </summary>
/// <param name="ImageSize">Side of the square RGB input image in pixels (divisible by 8).</param>
/// <param name="Conv1Channels">Channels of the first convolution (full resolution, then 2x2 max pooling).</param>
/// <param name="Conv2Channels">Channels of the second, stride-2 convolution.</param>
/// <param name="Conv3Channels">Channels of the third, stride-2 convolution (the image feature map).</param>
/// <param name="FusionChannels">Channels of the FiLM-modulated convolution that fuses image and question.</param>
/// <param name="ModelWidth">Width of token embeddings and of the transformer question encoder.</param>
/// <param name="Heads">Attention heads of each transformer layer.</param>
/// <param name="Layers">Transformer layers of the question encoder.</param>
/// <param name="FeedForward">Hidden width of each transformer layer's feed-forward block.</param>
/// <param name="ReaderSlots">Query slots with which the question reads the fused grid (objects a question can name).</param>
/// <param name="HeadHidden">Hidden width of the answer head.</param>
/// <param name="MaxTokens">Longest question in tokens; longer questions are cut.</param>
/// <param name="TokenCount">Size of the question token vocabulary.</param>
/// <param name="AnswerCount">Size of the answer vocabulary.</param>
public sealed record TinyVlmConfig(
    [property: JsonPropertyName("image_size")] int ImageSize,
    [property: JsonPropertyName("conv1_channels")] int Conv1Channels,
    [property: JsonPropertyName("conv2_channels")] int Conv2Channels,
    [property: JsonPropertyName("conv3_channels")] int Conv3Channels,
    [property: JsonPropertyName("fusion_channels")] int FusionChannels,
    [property: JsonPropertyName("model_width")] int ModelWidth,
    [property: JsonPropertyName("heads")] int Heads,
    [property: JsonPropertyName("layers")] int Layers,
    [property: JsonPropertyName("feed_forward")] int FeedForward,
    [property: JsonPropertyName("reader_slots")] int ReaderSlots,
    [property: JsonPropertyName("head_hidden")] int HeadHidden,
    [property: JsonPropertyName("max_tokens")] int MaxTokens,
    [property: JsonPropertyName("token_count")] int TokenCount,
    [property: JsonPropertyName("answer_count")] int AnswerCount)
{
    /// <summary>Layer-norm epsilon (PyTorch's default), fixed so the reference matches.</summary>
    public const float LayerNormEps = 1e-5f;

    /// <summary>The default sizes, tuned for training on 20k ShapesWorld samples in minutes on two cores.</summary>
    public static TinyVlmConfig Default(int tokenCount, int answerCount) => new(
        ImageSize: 64, Conv1Channels: 16, Conv2Channels: 32, Conv3Channels: 64, FusionChannels: 64,
        ModelWidth: 64, Heads: 4, Layers: 1, FeedForward: 128, ReaderSlots: 2, HeadHidden: 128, MaxTokens: 32,
        TokenCount: tokenCount, AnswerCount: answerCount);

    /// <summary>Side of the feature map after the image encoder (1/8 of the image).</summary>
    [JsonIgnore]
    public int FeatureSize => ImageSize / 8;

    /// <summary>Checks that the sizes fit together, naming the first that does not.</summary>
    public void Validate()
    {
        if (ImageSize < 8 || ImageSize % 8 != 0) throw new ArgumentException($"image_size must be a positive multiple of 8 (got {ImageSize}).");
        foreach (var (name, value) in new[]
                 {
                     ("conv1_channels", Conv1Channels), ("conv2_channels", Conv2Channels), ("conv3_channels", Conv3Channels),
                     ("fusion_channels", FusionChannels), ("model_width", ModelWidth), ("heads", Heads), ("layers", Layers),
                     ("feed_forward", FeedForward), ("reader_slots", ReaderSlots), ("head_hidden", HeadHidden), ("max_tokens", MaxTokens),
                     ("token_count", TokenCount), ("answer_count", AnswerCount),
                 })
        {
            if (value < 1) throw new ArgumentException($"{name} must be at least 1 (got {value}).");
        }

        if (ModelWidth % Heads != 0) throw new ArgumentException($"heads ({Heads}) must divide model_width ({ModelWidth}).");
    }

    /// <summary>The configuration as compact JSON (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Parses <see cref="ToJson"/> output; <paramref name="source"/> names the file in errors.</summary>
    public static TinyVlmConfig FromJson(string json, string source)
    {
        TinyVlmConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<TinyVlmConfig>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: the architecture metadata is not valid TinyVLM JSON ({e.Message}).", e);
        }

        if (config is null) throw new InvalidDataException($"{source}: the architecture metadata is empty.");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }

        return config;
    }
}
