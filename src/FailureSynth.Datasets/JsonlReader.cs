using System.Globalization;

namespace FailureSynth.Datasets;

/// <summary>Reads a JSONL file of <see cref="VqaSample"/>-shaped objects, one per line; blank lines are allowed.</summary>
internal static class JsonlReader
{
    /// <summary>Reads every record; <paramref name="lines"/> receives the line number of each sample, in order.</summary>
    public static List<VqaSample> Read(string path, ImageResolver images, string source, List<long>? lines = null)
    {
        var samples = new List<VqaSample>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (lineNumber, text) in JsonFiles.Lines(path, JsonFiles.ReadAll(path)))
        {
            using var document = JsonFiles.ParseLine(path, text, lineNumber);
            var scope = new RecordScope(path, $"line {lineNumber.ToString(CultureInfo.InvariantCulture)}", Line: lineNumber);
            var sample = SampleJson.Read(scope, document.RootElement, source);
            scope = scope.WithId(sample.Id);
            if (seen.TryGetValue(sample.Id, out var first))
                throw scope.Fail("id", $"duplicate id {JsonFiles.Quote(sample.Id)}, already used on line {first}; ids must be unique: rename or remove one of the two lines");
            seen.Add(sample.Id, lineNumber);
            if (sample.Image is not null) images.Check(scope, "image", sample.Image);
            samples.Add(sample);
            lines?.Add(lineNumber);
        }

        return samples;
    }
}
