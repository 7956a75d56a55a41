using System.Text.Json;
using FailureSynth.Imaging;

namespace FailureSynth.Serving;

/// <summary>
/// Limits a served model enforces (OWASP API4): on every request's size and fields, and on the requests one client, and
/// all clients together, may make (<see cref="PermitsPerMinute"/>, <see cref="ConcurrentRequests"/>).
/// </summary>
public sealed record ServeLimits(
    int MaxRequestBytes = 8 << 20,
    int MaxImageBytes = 4 << 20,
    int MaxImageSide = 1024,
    int MaxTextChars = 256 * 1024,
    int MaxTopLogprobs = 64,
    int MaxTokens = 4096,
    int MaxMessages = 64,
    int MaxContentParts = 32,
    int MaxImages = 4,
    int PermitsPerMinute = 1200,
    int ConcurrentRequests = 8);

/// <summary>One part of a user message: text, or an image decoded from its data URI.</summary>
public sealed record ChatPart(string? Text, RgbImage? Image);

/// <summary>
/// A validated <c>POST /v1/chat/completions</c> request. Fields FailureSynth's models do not use (temperature,
/// max_tokens, user, ...) are accepted and ignored, as OpenAI-compatible servers do, but numbers must lie in their
/// documented ranges (max_tokens within <see cref="ServeLimits.MaxTokens"/>); what cannot be honoured (streaming,
/// n &gt; 1, image URLs to fetch) is refused with a message naming the field.
/// </summary>
public sealed record ChatRequest(string Model, string? SystemPrompt, IReadOnlyList<ChatPart> User, bool Logprobs, int TopLogprobs, JsonElement? ResponseFormat, long? Seed)
{
    /// <summary>The text of the last user message, its parts joined by newlines.</summary>
    public string UserText => string.Join('\n', User.Where(p => p.Text is not null).Select(p => p.Text));

    public IReadOnlyList<RgbImage> Images => [.. User.Where(p => p.Image is not null).Select(p => p.Image!)];

    public static ChatRequest Parse(ReadOnlySpan<byte> body, ServeLimits limits)
    {
        if (body.Length > limits.MaxRequestBytes)
            throw new OpenAIRequestException(413, $"The request body is {body.Length} bytes; this server accepts at most {limits.MaxRequestBytes}.", code: "request_too_large");
        // JsonDocument checks UTF-8 only when a string is read (an InvalidOperationException, a 500): check it first.
        if (!System.Text.Unicode.Utf8.IsValid(body))
            throw new OpenAIRequestException(400, "The request body is not valid UTF-8.", code: "invalid_json");
        JsonDocument document;
        // A field named twice is refused: two readers of one body must never see two different requests.
        try { document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new OpenAIRequestException(400, $"The request body is not valid JSON: {e.Message}", code: "invalid_json"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid("The request body must be a JSON object.", null);
            string model = RequiredString(root, "model");
            if (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
                throw Invalid("stream: true is not supported by this server; send stream: false or leave it out.", "stream");
            if (root.TryGetProperty("n", out var n) && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out int count) && count == 1))
                throw Invalid("n must be 1 on this server.", "n");
            bool logprobs = false;
            if (root.TryGetProperty("logprobs", out var lp))
            {
                if (lp.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null)) throw Invalid("logprobs must be a boolean.", "logprobs");
                logprobs = lp.ValueKind == JsonValueKind.True;
            }
            int top = 0;
            if (root.TryGetProperty("top_logprobs", out var tl) && tl.ValueKind != JsonValueKind.Null)
            {
                if (!(tl.ValueKind == JsonValueKind.Number && tl.TryGetInt32(out top)) || top < 0 || top > limits.MaxTopLogprobs)
                    throw Invalid($"top_logprobs must be an integer in 0..{limits.MaxTopLogprobs}.", "top_logprobs");
                if (top > 0 && !logprobs) throw Invalid("top_logprobs needs logprobs: true.", "top_logprobs");
            }
            foreach (string name in (string[])["max_tokens", "max_completion_tokens"])
            {
                if (root.TryGetProperty(name, out var mt) && mt.ValueKind != JsonValueKind.Null
                    && !(mt.ValueKind == JsonValueKind.Number && mt.TryGetInt32(out int tokens) && tokens >= 1 && tokens <= limits.MaxTokens))
                    throw Invalid($"{name} must be an integer in 1..{limits.MaxTokens}.", name);
            }
            Bounded(root, "temperature", 0, 2);
            Bounded(root, "top_p", 0, 1);
            Bounded(root, "presence_penalty", -2, 2);
            Bounded(root, "frequency_penalty", -2, 2);
            long? seed = null;
            if (root.TryGetProperty("seed", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                if (!(s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out long value))) throw Invalid("seed must be an integer.", "seed");
                seed = value;
            }
            JsonElement? format = null;
            if (root.TryGetProperty("response_format", out var rf) && rf.ValueKind != JsonValueKind.Null)
            {
                if (rf.ValueKind != JsonValueKind.Object || !rf.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() is not ("text" or "json_object" or "json_schema"))
                    throw Invalid("response_format.type must be text, json_object or json_schema.", "response_format");
                format = rf.Clone();
            }
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
                throw Invalid("messages must be a non-empty array.", "messages");
            if (messages.GetArrayLength() > limits.MaxMessages)
                throw Invalid($"messages has {messages.GetArrayLength()} entries; this server takes at most {limits.MaxMessages}.", "messages");
            string? system = null;
            IReadOnlyList<ChatPart>? user = null;
            int textChars = 0, images = 0;
            int i = 0;
            foreach (var message in messages.EnumerateArray())
            {
                string param = $"messages[{i++}]";
                if (message.ValueKind != JsonValueKind.Object) throw Invalid($"{param} must be an object.", param);
                string role = RequiredString(message, "role", param + ".role");
                if (!message.TryGetProperty("content", out var content)) throw Invalid($"{param}.content is missing.", param + ".content");
                var parts = Parts(content, param + ".content", limits, ref textChars, ref images);
                switch (role)
                {
                    case "system" or "developer":
                        system = string.Join('\n', parts.Where(p => p.Text is not null).Select(p => p.Text));
                        break;
                    case "user":
                        user = parts;
                        break;
                    case "assistant" or "tool":
                        break;
                    default:
                        throw Invalid($"{param}.role '{Clip(role)}' must be system, developer, user, assistant or tool.", param + ".role");
                }
            }
            if (user is null) throw Invalid("messages must include a user message.", "messages");
            return new ChatRequest(model, system, user, logprobs, top, format, seed);
        }
    }

    private static List<ChatPart> Parts(JsonElement content, string param, ServeLimits limits, ref int textChars, ref int images)
    {
        var parts = new List<ChatPart>();
        if (content.ValueKind == JsonValueKind.String)
        {
            parts.Add(new ChatPart(Text(content.GetString()!, param, limits, ref textChars), null));
            return parts;
        }
        if (content.ValueKind != JsonValueKind.Array) throw Invalid($"{param} must be a string or an array of content parts.", param);
        if (content.GetArrayLength() > limits.MaxContentParts)
            throw Invalid($"{param} has {content.GetArrayLength()} parts; this server takes at most {limits.MaxContentParts}.", param);
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            string p = $"{param}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object) throw Invalid($"{p} must be an object.", p);
            string type = RequiredString(part, "type", p + ".type");
            if (type == "text") parts.Add(new ChatPart(Text(RequiredString(part, "text", p + ".text"), p, limits, ref textChars), null));
            else if (type == "image_url")
            {
                if (!part.TryGetProperty("image_url", out var image) || image.ValueKind != JsonValueKind.Object)
                    throw Invalid($"{p}.image_url must be an object with a url.", p + ".image_url");
                // Counted before decoding: each image may cost up to MaxImageSide² pixels.
                if (++images > limits.MaxImages)
                    throw new OpenAIRequestException(413, $"{p}: more than {limits.MaxImages} images in the request; this server decodes at most {limits.MaxImages}.", param: p, code: "too_many_images");
                parts.Add(new ChatPart(null, DecodeDataUri(RequiredString(image, "url", p + ".image_url.url"), p + ".image_url.url", limits)));
            }
            else throw Invalid($"{p}.type '{Clip(type)}' is not supported (text or image_url).", p + ".type");
        }
        return parts;
    }

    private static string Text(string text, string param, ServeLimits limits, ref int textChars)
    {
        textChars += text.Length;
        if (textChars > limits.MaxTextChars)
            throw new OpenAIRequestException(413, $"The messages hold more than {limits.MaxTextChars} characters of text; shorten {param}.", param: param, code: "context_length_exceeded");
        return text;
    }

    /// <summary>
    /// A <c>data:image/png;base64,...</c> URI as pixels. Remote URLs are refused: a served model never fetches
    /// what a request points at.
    /// </summary>
    public static RgbImage DecodeDataUri(string url, string param, ServeLimits limits)
    {
        const string Prefix = "data:image/png;base64,";
        if (!url.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            throw Invalid($"{param} must be a data URI of a PNG image (data:image/png;base64,...); this server fetches no URLs.", param, "invalid_image_url");
        int encoded = url.Length - Prefix.Length;
        if ((long)encoded * 3 / 4 > limits.MaxImageBytes)
            throw new OpenAIRequestException(413, $"{param}: the image is larger than {limits.MaxImageBytes} bytes.", param: param, code: "image_too_large");
        byte[] png;
        try { png = Convert.FromBase64String(url[Prefix.Length..]); }
        catch (FormatException) { throw Invalid($"{param}: the data URI is not valid base64.", param, "invalid_image"); }
        // The header's size is checked before decoding: a small file can declare a huge image.
        if (png.Length >= 24 && png.AsSpan(0, 8).SequenceEqual(PngSignature))
        {
            uint width = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16, 4));
            uint height = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20, 4));
            if (width > limits.MaxImageSide || height > limits.MaxImageSide)
                throw new OpenAIRequestException(413, $"{param}: the image is {width}x{height}; this server accepts at most {limits.MaxImageSide} pixels a side.", param: param, code: "image_too_large");
        }
        try { return PngDecoder.Decode(png, param); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw Invalid($"{param}: the image does not decode as PNG ({e.Message}).", param, "invalid_image");
        }
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>An optional number field, refused unless it lies in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    private static void Bounded(JsonElement root, string name, double min, double max)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            && !(value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double x) && x >= min && x <= max))
            throw Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} must be a number in {min}..{max}."), name);
    }

    private static string RequiredString(JsonElement obj, string name, string? param = null)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
            throw Invalid($"{param ?? name} must be a non-empty string.", param ?? name);
        return value.GetString()!;
    }

    internal static string Clip(string text) => text.Length <= 64 ? text : text[..64] + "...";

    internal static OpenAIRequestException Invalid(string message, string? param, string? code = null) => new(400, message, param: param, code: code);
}
