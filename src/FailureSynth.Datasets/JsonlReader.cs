using System.Globalization;
using System.Text;

namespace FailureSynth.Datasets;

/// <summary>Reads a JSONL file of <see cref="VqaSample"/>-shaped objects, one per line; blank lines are allowed.</summary>
internal static class JsonlReader
{
    /// <summary>Reads every record; <paramref name="lines"/> receives the line number of each sample, in order.</summary>
    public static List<VqaSample> Read(string path, ImageResolver images, string source, List<long>? lines = null)
    {
        var samples = new List<VqaSample>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        StreamReader reader;
        try
        {
            reader = new StreamReader(path, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(path, null, null, $"cannot be opened ({e.Message}); check that the file exists and is readable", inner: e);
        }

        using (reader)
        {
            long lineNumber = 0;
            while (true)
            {
                string? text;
                try
                {
                    text = reader.ReadLine();
                }
                catch (DecoderFallbackException e)
                {
                    throw new DatasetFormatException(path, $"line {(lineNumber + 1).ToString(CultureInfo.InvariantCulture)}", null,
                        "is not valid UTF-8; save the file as UTF-8", line: lineNumber + 1, inner: e);
                }

                if (text is null) break;
                lineNumber++;
                if (string.IsNullOrWhiteSpace(text)) continue;

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
        }

        return samples;
    }
}
