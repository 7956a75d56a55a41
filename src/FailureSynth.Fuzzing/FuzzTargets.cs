using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Messaging;

namespace FailureSynth.Fuzzing;

/// <summary>
/// Every parser that takes outside input, as a fuzz target. Dataset readers read files: their inputs are written to
/// <paramref name="workFolder"/> (one file per reader, rewritten for each input).
/// </summary>
public sealed partial class FuzzTargets(string workFolder)
{
    /// <summary>The campaign API's body limit (CampaignApi.MaxConfigBytes), repeated here so this library needs no web host.</summary>
    public const int MaxCampaignBodyBytes = 64 * 1024;

    public static readonly string[] Names = ["png", "llava", "vqa-v2", "scienceqa", "jsonl", "llama-factory", "campaign-yaml", "events", "api-body", "serve-body", "teacher-reply"];

    private static readonly string[] JsonTokens =
        ["{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "-0", "1e999", "\"\\u0000\"", "\"\\ud800\"", "\"<image>\"", "\"id\":", "\"image\":", "\"question\":",
         "\"answer\":", "\"conversations\":", "\"from\":\"human\"", "\"value\":", "\"questions\":", "\"annotations\":", "\"question_id\":", "\"image_id\":", "\"answers\":",
         "\"choices\":", "\"split\":", "\"steps\":", "\"skills\":", "\"messages\":", "\"role\":\"user\"", "\"content\":", "\"images\":",
         "\"file_name\":", "\"formatting\":\"sharegpt\"", "\"columns\":", "\"tags\":", "\n", "\r\n", "\uFEFF", "\u00e9", "\"../../etc/passwd\"", "\"/etc/passwd\""];

    private static readonly string[] YamlTokens =
        ["&a ", "*a", "<<: *a\n", "!!str ", "!!binary ", "!!map ", "--- ", "...\n", "%YAML 1.1\n", "%TAG ! tag:x:\n", "? ", ": ", "- ", "[", "]", "{", "}", ",", "\n", "\n  ", "\t",
         "'", "\"", "|\n", ">-\n", "#", "~", "null", "budget:", "student:", "checkpoint: ", "cache: ", "samples: ", "count: ", "pool:", "../../", "/etc/passwd", "\"\\x00\"", "\uFEFF"];

    public FuzzTarget Get(string name) => name switch
    {
        "png" => Png(),
        "llava" => Dataset("llava", "llava.json", [LlavaSeed], (path, options) => DatasetReader.LoadLlava(path, options)),
        "jsonl" => Dataset("jsonl", "samples.jsonl", [JsonlSeed], (path, options) => DatasetReader.LoadJsonl(path, options)),
        "vqa-v2" => Dataset("vqa-v2", "v2_OpenEnded_mscoco_val2014_questions.json", [VqaSeed], (path, options) =>
        {
            // The input holds both files: questions, a NUL byte, annotations.
            string annotations = Path.Combine(Path.GetDirectoryName(path)!, "v2_mscoco_val2014_annotations.json");
            return DatasetReader.LoadVqaV2(path, annotations, options);
        }, split: "v2_mscoco_val2014_annotations.json"),
        "scienceqa" => Dataset("scienceqa", "problems.json", [ScienceQaSeed], (path, options) => DatasetReader.LoadScienceQa(path, null, options), split: "pid_splits.json"),
        // The input holds dataset_info.json, a NUL byte, then the sharegpt data file it names.
        "llama-factory" => Dataset("llama-factory", "dataset_info.json", [LlamaFactorySeed], (path, options) => DatasetReader.LoadLlamaFactoryInfo(path, options), split: "data.json"),
        "campaign-yaml" => CampaignYaml(),
        "events" => Events(),
        "api-body" => ApiBody(),
        "serve-body" => ServeBody(),
        "teacher-reply" => TeacherReply(),
        _ => throw new ArgumentException($"unknown fuzz target '{name}': use one of {string.Join(", ", Names)}", nameof(name)),
    };

    // ---------- PNG ----------

    /// <summary>Deflate's largest expansion ratio (RFC 1951: a 258-byte match costs at least 2 bits).</summary>
    private const long MaxDeflateExpansion = 1032;

    private static FuzzTarget Png()
    {
        var seeds = new List<byte[]>();
        foreach (var (w, h) in new[] { (1, 1), (3, 2), (8, 5), (17, 3) })
        {
            var image = new RgbImage(w, h);
            for (int i = 0; i < w * h * 3; i++) image.Pixels[i] = (byte)(i * 37);
            seeds.Add(PngEncoder.Encode(image));
        }
        seeds.Add(BuildPng(65535, 65535, 2, 8, Zlib(new byte[1024])));          // huge declared size, little data
        seeds.Add(BuildPng(16384, 16384, 2, 8, Zlib(new byte[16385 * 3 * 4]))); // largest accepted size, four rows of data
        seeds.Add(BuildPng(2, 2, 6, 8, Zlib(new byte[4 << 20])));               // 4 MiB of zeros behind a 2 x 2 header
        return new FuzzTarget("png", nameof(InvalidDataException), seeds,
            input => PngDecoder.Decode(input, "fuzz input"),
            e => e is InvalidDataException,
            // Pixels are allocated only for data that is there: at most deflate's 1032:1 expansion of the input, a few times over.
            length => (4L << 20) + 4L * MaxDeflateExpansion * length,
            [],
            RepairCrcs,
            GeneratePng);
    }

    private static byte[] GeneratePng(Random random)
    {
        int[] sides = [1, 2, 7, 64, 1000, 16384, 16385, 65535, int.MaxValue];
        int w = sides[random.Next(sides.Length)], h = sides[random.Next(sides.Length)];
        byte[] colorTypes = [0, 2, 3, 4, 6, 7];
        byte[] depths = [1, 8, 16];
        byte ct = colorTypes[random.Next(colorTypes.Length)], depth = depths[random.Next(depths.Length)];
        // A decompression bomb now and then: many zeros, tiny once compressed.
        int raw = random.Next(3) == 0 ? random.Next(1, 8 << 20) : random.Next(0, 4096);
        var data = new byte[raw];
        if (random.Next(2) == 0) random.NextBytes(data.AsSpan(0, Math.Min(raw, 256)));
        return BuildPng(w, h, ct, depth, Zlib(data));
    }

    public static byte[] BuildPng(int width, int height, byte colorType, byte bitDepth, byte[] zlib)
    {
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", zlib);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static byte[] Zlib(byte[] raw)
    {
        var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(raw);
        return output.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typed));
        png.Write(word);
    }

    /// <summary>Recomputes every chunk CRC that the chunk lengths let it find.</summary>
    private static byte[] RepairCrcs(byte[] png)
    {
        int offset = 8;
        while (offset + 12 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset));
            if (length > int.MaxValue || offset + 12L + length > png.Length) break;
            uint crc = Crc32.HashToUInt32(png.AsSpan(offset + 4, 4 + (int)length));
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(offset + 8 + (int)length), crc);
            offset += 12 + (int)length;
        }
        return png;
    }

    // ---------- dataset readers ----------

    private FuzzTarget Dataset(string name, string file, IReadOnlyList<string> seeds, Func<string, DatasetReadOptions, LoadedDataset> load, string? split = null)
    {
        string folder = Path.Combine(workFolder, name);
        Directory.CreateDirectory(Path.Combine(folder, "img"));
        File.WriteAllBytes(Path.Combine(folder, "img", "a.png"), PngEncoder.Encode(new RgbImage(1, 1)));
        string path = Path.Combine(folder, file);
        var options = new DatasetReadOptions(RequireImages: name is "llava" or "jsonl" or "llama-factory");
        return new FuzzTarget(name, nameof(DatasetFormatException), [.. seeds.Select(Encoding.UTF8.GetBytes)],
            input =>
            {
                if (split is null)
                {
                    File.WriteAllBytes(path, input);
                }
                else
                {
                    int nul = Array.IndexOf(input, (byte)0);
                    File.WriteAllBytes(path, nul < 0 ? input : input[..nul]);
                    File.WriteAllBytes(Path.Combine(folder, split), nul < 0 ? [] : input[(nul + 1)..]);
                }
                load(path, options);
            },
            e => e is DatasetFormatException,
            // The file is read whole and parsed into a document: a few copies of it, plus the samples built from it.
            length => (1L << 20) + 48L * length,
            JsonTokens);
    }

    private const string LlavaSeed = """
        [{"id":"000000033471","image":"img/a.png","conversations":[{"from":"human","value":"<image>\nWhat are the colors of the bus?"},{"from":"gpt","value":"White and red."}]},
         {"id":"2","image":"img/a.png","conversations":[{"from":"human","value":"Where is the cat?\n<image>"},{"from":"gpt","value":"On the couch."},{"from":"human","value":"Doing?"},{"from":"gpt","value":"Sleeping."}]},
         {"id":"i6IyJda_0","conversations":[{"from":"human","value":"How to segment customers?"},{"from":"gpt","value":"By need."}]}]
        """;

    private const string LlamaFactorySeed = """
        {"demo":{"file_name":"data.json","formatting":"sharegpt","columns":{"messages":"messages","images":"images"},
         "tags":{"role_tag":"role","content_tag":"content","user_tag":"user","assistant_tag":"assistant"}}}
        """ + "\0" + """
        [{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"<image>Who are they?"},{"role":"assistant","content":"Players."},{"role":"user","content":"Doing?"},{"role":"assistant","content":"Celebrating."}],"images":["img/a.png"]},
         {"id":7,"messages":[{"role":"user","content":"What is 2 + 2?"},{"role":"assistant","content":"4"}],"images":[]}]
        """;

    private const string JsonlSeed = """
        {"id":"q1","image":"img/a.png","question":"How many cubes?","answer":"3","family":"count","skills":["count"],"steps":[{"index":0,"question":"Which objects are cubes?","answer":"1, 2, 4"}],"split":"train"}

        {"id":"q2","question":"What color is the sphere?\nA. red\nB. blue","answer":"B","choices":["red","blue"],"answerText":"blue","split":"val","extra":{"ignored":true}}
        {"id":"q3","image":null,"question":"Is it raining?","answer":"no","allAnswers":["no","no",""]}
        """;

    private const string VqaSeed = """
        {"info":{"description":"This is v2.0 of the VQA dataset.","version":"2.0","year":2017},"task_type":"Open-Ended","data_type":"mscoco","license":{"name":"CC BY 4.0"},"data_subtype":"val2014",
         "questions":[{"image_id":262148,"question":"Where is he looking?","question_id":262148000},{"image_id":393225,"question":"How many spoons are there?","question_id":393225001}]}
        """ + "\0" + """
        {"info":{"version":"2.0"},"license":{"name":"CC BY 4.0"},"data_subtype":"val2014","annotations":[
         {"question_type":"none of the above","multiple_choice_answer":"down","answers":[{"answer":"down","answer_confidence":"yes","answer_id":1},{"answer":"table","answer_confidence":"maybe","answer_id":2}],"image_id":262148,"answer_type":"other","question_id":262148000},
         {"question_type":"how many","multiple_choice_answer":"2","answers":[{"answer":"2","answer_confidence":"yes","answer_id":1}],"image_id":393225,"answer_type":"number","question_id":393225001}]}
        """;

    private const string ScienceQaSeed = """
        {"1":{"question":"Which tense does the sentence use?","choices":["present tense","future tense"],"answer":1,"hint":"","image":null,"task":"closed choice","grade":"grade2","subject":"language science","topic":"verbs","category":"Verb tense","skill":"Is the sentence in the past, present, or future tense?","lecture":"A lecture.","solution":"The solution.","split":"train"},
         "2":{"question":"Which state is farthest north?","choices":["West Virginia","Louisiana"],"answer":0,"hint":"","image":"image.png","task":"closed choice","grade":"grade2","subject":"social science","topic":"geography","category":"Geography","skill":"Read a map","lecture":"","solution":"","split":"val"}}
        """ + "\0" + """
        {"train":["1"],"val":["2"],"test":[],"trainval":["1","2"],"minitrain":["1"],"minival":["2"]}
        """;

    // ---------- campaign YAML and the API body ----------

    private static IReadOnlyList<byte[]> CampaignSeeds()
    {
        var seeds = new List<string>
        {
            "name: probe\niterations: 1\nvalidation: { count: 100 }\ntest: { count: 100 }\n",
            """
            name: demo
            seed: 7
            threads: 0
            iterations: 2
            prescription: synthesise
            student:
              base: { profile: base-skewed, count: 20000, seed: 1 }
              base_steps: 2150
              cache: out/cache
            validation: { profile: balanced, count: 1500, seed: 101 }
            test: { profile: balanced, count: 20000, seed: 2 }
            budget:
              failures: 400
              samples: 1000
              train_steps: 300
            locate: { method: answer-switch, bias: 0.2, delta: 0.05, lambda: 1 }
            teacher: { seed: 17, trust: 0.97 }
            filter: { judge_threshold: 3, per_skill_cap: 2000 }
            pool: { profile: balanced, count: 100000, seed: 303, k1: 1.2, b: 0.75 }
            """,
            "name: r\nprescription: retrieve\nstudent: { checkpoint: out/base.safetensors }\npool: &p { count: 10 }\n",
            // Alias bomb: each level names the one before nine times.
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
            "student: &s { base_steps: 10 }\nbudget: *s\n",
            "budget: &b { samples: 10, failures: 10 }\nbase: { <<: *b }\n",
            // Deep nesting.
            "name: " + new string('[', 5000) + new string(']', 5000) + "\n",
            "student:\n" + string.Concat(Enumerable.Range(1, 200).Select(i => new string(' ', 2 * i) + "base:\n")),
            "budget: ~\n",
            "student: { checkpoint: /etc/passwd, cache: ../../x }\n",
        };
        return [.. seeds.Select(Encoding.UTF8.GetBytes)];
    }

    private static FuzzTarget CampaignYaml() => new("campaign-yaml", nameof(CampaignConfigException), CampaignSeeds(),
        input => CampaignConfig.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml"),
        e => e is CampaignConfigException,
        // YAML parsing builds tokens, events and objects per character; 64 KiB bodies stay under a few MiB.
        length => (2L << 20) + 600L * length,
        YamlTokens);

    /// <summary>
    /// What the campaign API does with a body before any work starts: the size limit, UTF-8 decoding as the
    /// server's reader does it, the config's own checks, the data-root confinement and the server's limits.
    /// </summary>
    private static FuzzTarget ApiBody() => new("api-body", nameof(CampaignConfigException), CampaignSeeds(),
        input =>
        {
            if (input.Length > MaxCampaignBodyBytes) throw new CampaignConfigException($"the campaign YAML is larger than {MaxCampaignBodyBytes} bytes");
            var config = CampaignConfig.Parse(Encoding.UTF8.GetString(input), "the request body", profileFiles: false);
            var problems = config.ConfinedPathProblems("/srv/failuresynth").Concat(CampaignLimits.Server.Problems(config, " on this server")).ToList();
            if (problems.Count > 0) throw new CampaignConfigException(string.Join("; ", problems));
        },
        e => e is CampaignConfigException,
        length => (2L << 20) + 600L * length,
        YamlTokens);

    // ---------- integration events ----------

    private static FuzzTarget Events()
    {
        var types = typeof(FailureSynth.Events.EvaluationRequested).Assembly.GetTypes()
            .Where(t => typeof(IntegrationEvent).IsAssignableFrom(t) && !t.IsAbstract).OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        // An input is one byte choosing the event type, then the message body, as the consumer gets it from the broker.
        var seeds = types.Select((t, i) => (byte[])[(byte)i, .. Encoding.UTF8.GetBytes(Sample(t, 0)!.ToJsonString())]).ToList();
        return new FuzzTarget("events", "JsonException (or the consumer's other refusals: NotSupportedException, ArgumentException, InvalidOperationException)", seeds,
            input =>
            {
                if (input.Length == 0) throw new JsonException("empty message");
                var type = types[input[0] % types.Length];
                var message = (IntegrationEvent?)JsonSerializer.Deserialize(input.AsSpan(1), type, options);
                // What the consumer does next: a message that names problems goes to the dead-letter queue; it must not throw.
                if (message is IValidatableEvent validatable) _ = validatable.Validate();
            },
            // The same exceptions EventBusConsumer catches when it deserialises a message.
            e => e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException,
            length => (1L << 20) + 48L * length,
            JsonTokens);
    }

    /// <summary>A JSON value of the shape <paramref name="type"/> deserialises from, every property filled.</summary>
    private static JsonNode? Sample(Type type, int depth)
    {
        if (depth > 6) return null;
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string)) return "x";
        if (underlying == typeof(bool)) return true;
        if (underlying == typeof(int) || underlying == typeof(long) || underlying == typeof(short)) return 1;
        if (underlying == typeof(double) || underlying == typeof(float) || underlying == typeof(decimal)) return 0.5;
        if (underlying == typeof(byte[])) return "AAEC";
        if (underlying == typeof(DateTimeOffset) || underlying == typeof(DateTime)) return "2026-01-01T00:00:00Z";
        if (underlying == typeof(Guid)) return Guid.Empty.ToString();
        if (underlying.IsEnum) return Enum.GetNames(underlying).FirstOrDefault();
        var element = underlying.IsArray ? underlying.GetElementType()
            : underlying.GetInterfaces().Append(underlying).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        if (element is not null)
        {
            if (element.IsGenericType && element.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
                return new JsonObject { ["k"] = Sample(element.GetGenericArguments()[1], depth + 1) };
            return new JsonArray(Sample(element, depth + 1));
        }
        var obj = new JsonObject();
        foreach (var property in underlying.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || p.GetCustomAttribute<System.Runtime.CompilerServices.RequiredMemberAttribute>() is not null || p.SetMethod is not null))
            obj[JsonNamingPolicy.CamelCase.ConvertName(property.Name)] = Sample(property.PropertyType, depth + 1);
        return obj;
    }
}
