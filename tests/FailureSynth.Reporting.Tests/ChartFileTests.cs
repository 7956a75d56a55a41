using System.Xml;
using System.Xml.Linq;

namespace FailureSynth.Reporting.Tests;

public sealed class ChartFileTests
{
    [Fact]
    public void Sample_charts_written_to_disk_are_well_formed_svg()
    {
        string folder = Path.Combine(Path.GetTempPath(), "failuresynth-reporting-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            (string Name, string Svg)[] charts =
            [
                ("accuracy.svg", SvgChart.Lines(new LineChart("Accuracy per skill per iteration", ["0", "1", "2"],
                    [new LineSeries("count/n>=5", [0.3, 0.5, 0.6]), new LineSeries("color & shape", [0.7, null, 0.8])])
                { Highlighted = ["count/n>=5"], YAxisLabel = "accuracy" })),
                ("failures.svg", SvgChart.Bars(new BarChart("Failures per skill", [BarRow.Single("count/n>=5", 12), BarRow.Single("a<b", 4)]))),
                ("arms.svg", SvgChart.Bars(new BarChart("Arms", [new BarRow("targeted", [0.63, 0.61], [0.012, 0.02])])
                { SeriesNames = ["seed mean", "median"] })),
                ("empty.svg", SvgChart.Lines(new LineChart("Nothing yet", [], []))),
            ];
            foreach (var (name, svg) in charts) File.WriteAllText(Path.Combine(folder, name), svg);

            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit };
            foreach (string path in Directory.GetFiles(folder, "*.svg").Order(StringComparer.Ordinal))
            {
                using var reader = XmlReader.Create(path, settings);
                var document = XDocument.Load(reader);
                Assert.Equal("svg", document.Root!.Name.LocalName);
                Assert.Equal("http://www.w3.org/2000/svg", document.Root.Name.NamespaceName);
                Assert.NotNull(document.Root.Attribute("viewBox"));
            }
            Assert.Equal(4, Directory.GetFiles(folder, "*.svg").Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
