using System.Globalization;
using System.Text;

namespace FailureSynth.Reporting;

/// <summary>One attribute of an SVG element, its value already in final text form.</summary>
internal readonly record struct SvgAttribute(string Name, string Value)
{
    public static implicit operator SvgAttribute((string Name, string Value) attribute) => new(attribute.Name, attribute.Value);
    public static implicit operator SvgAttribute((string Name, double Value) attribute) => new(attribute.Name, SvgBuilder.Number(attribute.Value));
    public static implicit operator SvgAttribute((string Name, int Value) attribute) => new(attribute.Name, attribute.Value.ToString(CultureInfo.InvariantCulture));
}

/// <summary>
/// Writes SVG markup element by element with every text and attribute value XML-escaped and
/// every number in invariant form, so that the same calls always give the same bytes.
/// </summary>
internal sealed class SvgBuilder
{
    public const string Namespace = "http://www.w3.org/2000/svg";

    private readonly StringBuilder _markup = new();
    private readonly Stack<string> _open = new();

    /// <summary>Starts the document: the root element with its size, viewBox and an accessible title.</summary>
    public SvgBuilder(double width, double height, string title)
    {
        Open("svg",
            ("xmlns", Namespace),
            ("width", width),
            ("height", height),
            ("viewBox", $"0 0 {Number(width)} {Number(height)}"),
            ("font-family", "DejaVu Sans, Verdana, Arial, sans-serif"),
            ("font-size", ChartText.FontSize),
            ("role", "img"));
        Text("title", title);
        Empty("rect", ("class", "background"), ("x", 0), ("y", 0), ("width", width), ("height", height), ("fill", Palette.Background));
    }

    public SvgBuilder Open(string element, params ReadOnlySpan<SvgAttribute> attributes)
    {
        StartTag(element, attributes);
        _markup.Append(">\n");
        _open.Push(element);
        return this;
    }

    public SvgBuilder Close()
    {
        string element = _open.Pop();
        Indent();
        _markup.Append("</").Append(element).Append(">\n");
        return this;
    }

    public SvgBuilder Empty(string element, params ReadOnlySpan<SvgAttribute> attributes)
    {
        StartTag(element, attributes);
        _markup.Append("/>\n");
        return this;
    }

    /// <summary>An element whose only content is text, e.g. a label or a tooltip title.</summary>
    public SvgBuilder Text(string element, string text, params ReadOnlySpan<SvgAttribute> attributes)
    {
        StartTag(element, attributes);
        _markup.Append('>');
        AppendEscaped(text);
        _markup.Append("</").Append(element).Append(">\n");
        return this;
    }

    /// <summary>An empty-looking shape that carries a hover tooltip: &lt;path ...&gt;&lt;title&gt;tip&lt;/title&gt;&lt;/path&gt;.</summary>
    public SvgBuilder WithTooltip(string element, string tooltip, params ReadOnlySpan<SvgAttribute> attributes)
    {
        StartTag(element, attributes);
        _markup.Append("><title>");
        AppendEscaped(tooltip);
        _markup.Append("</title></").Append(element).Append(">\n");
        return this;
    }

    /// <summary>Closes every open element, the root included, and returns the document.</summary>
    public string Finish()
    {
        while (_open.Count > 0) Close();
        return _markup.ToString();
    }

    /// <summary>
    /// A coordinate or length in invariant form with at most two decimals and no "-0", so
    /// output bytes do not depend on culture or on floating-point noise below a hundredth.
    /// </summary>
    public static string Number(double value)
    {
        if (!double.IsFinite(value)) throw new InvalidOperationException($"internal layout error: a chart coordinate is {value}.");
        double rounded = Math.Round(value, 2, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0; // turns -0 into 0
        return rounded.ToString("0.##", CultureInfo.InvariantCulture);
    }

    private void StartTag(string element, ReadOnlySpan<SvgAttribute> attributes)
    {
        Indent();
        _markup.Append('<').Append(element);
        foreach (var attribute in attributes)
        {
            _markup.Append(' ').Append(attribute.Name).Append("=\"");
            AppendEscaped(attribute.Value);
            _markup.Append('"');
        }
    }

    private void Indent() => _markup.Append(' ', 2 * _open.Count);

    // Skill keys such as "count/color=cyan/n>=5" carry markup characters; text from models may
    // also carry characters XML 1.0 forbids outright, which would make the whole file unreadable.
    private void AppendEscaped(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': _markup.Append("&amp;"); break;
                case '<': _markup.Append("&lt;"); break;
                case '>': _markup.Append("&gt;"); break;
                case '"': _markup.Append("&quot;"); break;
                case '\'': _markup.Append("&apos;"); break;
                case '\t' or '\n' or '\r': _markup.Append(' '); break;
                case < ' ' or '\uFFFE' or '\uFFFF': _markup.Append('\uFFFD'); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        _markup.Append(c).Append(text[i + 1]);
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        _markup.Append('\uFFFD');
                    }
                    else
                    {
                        _markup.Append(c);
                    }
                    break;
            }
        }
    }
}
