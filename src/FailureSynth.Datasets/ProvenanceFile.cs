using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FailureSynth.Datasets;

/// <summary>
/// Writes <c>provenance.jsonl</c>: one line per sample with its JSONL fields plus <c>"provenance"</c> (scene, program,
/// seed, ...). Every dataset layout FailureSynth writes puts this file beside its own files.
/// </summary>
internal sealed class ProvenanceFile : IDisposable
{
    private readonly FileStream stream;
    private readonly ArrayBufferWriter<byte> line = new();
    private readonly Utf8JsonWriter writer;

    public ProvenanceFile(string path)
    {
        stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        writer = new Utf8JsonWriter(line, JsonFiles.Compact);
    }

    public void Write(VqaSample sample, JsonObject? details)
    {
        line.ResetWrittenCount();
        writer.Reset(line);
        writer.WriteStartObject();
        SampleJson.WriteFields(writer, sample);
        if (details is not null)
        {
            writer.WritePropertyName("provenance");
            details.WriteTo(writer);
        }

        writer.WriteEndObject();
        writer.Flush();
        stream.Write(line.WrittenSpan);
        stream.WriteByte((byte)'\n');
    }

    public void Dispose()
    {
        writer.Dispose();
        stream.Dispose();
    }
}
