namespace FailureSynth.Reporting.Tests;

public sealed class MarkdownTableTests
{
    [Fact]
    public void Renders_a_padded_table_with_header_and_delimiter_rows()
    {
        string table = MarkdownTable.Render(["skill", "failures"], [["count", "12"], ["relation/left-of", "3"]]);
        Assert.Equal(
            "| skill            | failures |\n" +
            "| ---------------- | -------- |\n" +
            "| count            | 12       |\n" +
            "| relation/left-of | 3        |\n",
            table);
    }

    [Fact]
    public void Pipes_and_line_breaks_in_cells_cannot_break_the_table()
    {
        string table = MarkdownTable.Render(["reason", "n"], [["schema | answer mismatch", "2"], ["line one\nline two\r\nthree", "1"]]);
        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Contains(@"schema \| answer mismatch", lines[2]);
        Assert.Contains("line one<br>line two<br>three", lines[3]);
        // Every row still has exactly three unescaped pipes: the borders of two cells.
        Assert.All(lines, line => Assert.Equal(3, line.Where((c, i) => c == '|' && (i == 0 || line[i - 1] != '\\')).Count()));
        Assert.Equal("a \\| b", MarkdownTable.Escape(" a | b "));
        Assert.Equal("", MarkdownTable.Escape(null));
    }

    [Fact]
    public void Numeric_columns_are_right_aligned_when_asked()
    {
        string table = MarkdownTable.Render(
            ["arm", "accuracy", "gain", "note"],
            [["targeted", "63.4 ± 1.2", "+5%", "best"], ["random", "58.1 ± 0.9", "—", "12"], ["full pool", "1,204.5", "-0.5", "n/a"]],
            [ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric]);
        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal("| --------- | ---------: | ---: | ---- |", lines[1]);
        Assert.Equal("| targeted  | 63.4 ± 1.2 |  +5% | best |", lines[2]);
        Assert.Equal("| random    | 58.1 ± 0.9 |    — | 12   |", lines[3]);
        Assert.Equal("| full pool |    1,204.5 | -0.5 | n/a  |", lines[4]);
    }

    [Fact]
    public void Explicit_alignments_set_the_delimiter_markers_and_padding()
    {
        string table = MarkdownTable.Render(["l", "c", "r", "none"], [["a", "b", "c", "d"]],
            [ColumnAlignment.Left, ColumnAlignment.Center, ColumnAlignment.Right, ColumnAlignment.None]);
        Assert.Equal(
            "| l   |  c  |   r | none |\n" +
            "| :-- | :-: | --: | ---- |\n" +
            "| a   |  b  |   c | d    |\n",
            table);
    }

    [Fact]
    public void A_table_without_rows_has_its_header_only()
    {
        Assert.Equal("| skill |\n| ----- |\n", MarkdownTable.Render(["skill"], []));
    }

    [Fact]
    public void Rows_of_the_wrong_width_are_rejected_naming_the_row()
    {
        var error = Assert.Throws<ArgumentException>(() => MarkdownTable.Render(["skill", "n"], [["count", "1"], ["shape"]]));
        Assert.Contains("table row 1 has 1 cells but there are 2 columns (skill, n)", error.Message);
        Assert.Equal("rows", error.ParamName);

        var alignments = Assert.Throws<ArgumentException>(() => MarkdownTable.Render(["skill", "n"], [], [ColumnAlignment.Right]));
        Assert.Contains("1 alignments were given for 2 columns", alignments.Message);

        Assert.Throws<ArgumentException>(() => MarkdownTable.Render([], []));
    }
}
