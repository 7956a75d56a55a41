using System.Globalization;
using System.Xml.Linq;

namespace FailureSynth.Reporting.Tests;

/// <summary>Reads rendered charts back as XML so tests can check structure rather than bytes.</summary>
internal static class ChartXml
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    public static XDocument Parse(string svg)
    {
        var document = XDocument.Parse(svg);
        Assert.Equal(Svg + "svg", document.Root!.Name);
        return document;
    }

    public static List<XElement> ByClass(XDocument document, string element, string cssClass) =>
        document.Descendants(Svg + element).Where(e => (string?)e.Attribute("class") == cssClass).ToList();

    public static List<XElement> ByClass(XDocument document, string cssClass) =>
        document.Descendants().Where(e => (string?)e.Attribute("class") == cssClass).ToList();

    public static double Number(XElement element, string attribute) =>
        double.Parse((string)element.Attribute(attribute)!, CultureInfo.InvariantCulture);

    public static (double Width, double Height) ViewBoxSize(XDocument document)
    {
        var parts = ((string)document.Root!.Attribute("viewBox")!).Split(' ').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, parts.Length);
        Assert.Equal(0, parts[0]);
        Assert.Equal(0, parts[1]);
        return (parts[2], parts[3]);
    }

    /// <summary>The points of a path made of M, L and h0 commands, grouped by subpath.</summary>
    public static List<List<(double X, double Y)>> PathRuns(XElement path)
    {
        string d = (string)path.Attribute("d")!;
        var runs = new List<List<(double, double)>>();
        foreach (string command in SplitCommands(d))
        {
            if (command == "h0") continue;
            var xy = command[1..].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (command[0] == 'M') runs.Add([]);
            else Assert.Equal('L', command[0]);
            runs[^1].Add((xy[0], xy[1]));
        }
        return runs;
    }

    private static IEnumerable<string> SplitCommands(string d)
    {
        int start = 0;
        for (int i = 1; i <= d.Length; i++)
            if (i == d.Length || char.IsLetter(d[i]))
            {
                yield return d[start..i];
                start = i;
            }
    }

    /// <summary>
    /// Every unrotated text, sized by the layouts' own estimate (0.6 font sizes per character),
    /// lies inside the viewBox: nothing is cut off at the edges.
    /// </summary>
    public static void AssertTextFitsViewBox(XDocument document)
    {
        var (width, height) = ViewBoxSize(document);
        foreach (var text in document.Descendants(Svg + "text").Where(t => t.Attribute("transform") is null))
        {
            double fontSize = text.Attribute("font-size") is { } size ? double.Parse(size.Value, CultureInfo.InvariantCulture) : 12;
            double textWidth = text.Value.Length * 0.6 * fontSize;
            double x = Number(text, "x"), y = Number(text, "y");
            (double left, double right) = ((string?)text.Attribute("text-anchor")) switch
            {
                "end" => (x - textWidth, x),
                "middle" => (x - textWidth / 2, x + textWidth / 2),
                _ => (x, x + textWidth),
            };
            Assert.True(left >= -0.01 && right <= width + 0.01, $"text \"{text.Value}\" spans x {left}..{right}, outside the viewBox width {width}");
            Assert.True(y - fontSize >= -0.01 && y <= height + 0.01, $"text \"{text.Value}\" at y {y} is outside the viewBox height {height}");
        }
    }
}
