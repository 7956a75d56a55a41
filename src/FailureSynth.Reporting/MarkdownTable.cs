using System.Globalization;
using System.Text;

namespace FailureSynth.Reporting;

/// <summary>How a column of a <see cref="MarkdownTable"/> is aligned.</summary>
public enum ColumnAlignment
{
    /// <summary>No alignment marker (<c>---</c>); renderers left-align.</summary>
    None,
    Left,
    Center,
    Right,
    /// <summary>Right when every non-blank cell of the column is numeric (e.g. "12", "-0.5", "63.4 ± 1.2", "85%"), else none.</summary>
    Numeric,
}

/// <summary>
/// Renders a GitHub-flavoured Markdown table for report.md, padded so the raw text lines up
/// too. Cells are escaped so a skill key or a model's text cannot break the table.
/// </summary>
public static class MarkdownTable
{
    private const int MinColumnWidth = 3;

    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlyList<ColumnAlignment>? alignments = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        if (headers.Count == 0) throw new ArgumentException("a Markdown table needs at least one header; pass the column names.", nameof(headers));
        if (alignments is not null && alignments.Count != headers.Count)
            throw new ArgumentException($"{alignments.Count} alignments were given for {headers.Count} columns; give one per column or none.", nameof(alignments));

        var header = headers.Select(Escape).ToList();
        var body = new List<List<string>>();
        foreach (var row in rows)
        {
            if (row is null) throw new ArgumentException($"table row {body.Count} is null; pass an empty cell list of {headers.Count} cells instead.", nameof(rows));
            if (row.Count != headers.Count)
                throw new ArgumentException(
                    $"table row {body.Count} has {row.Count} cells but there are {headers.Count} columns ({string.Join(", ", headers)}); give one cell per column.",
                    nameof(rows));
            body.Add(row.Select(Escape).ToList());
        }

        int columns = header.Count;
        var resolved = new ColumnAlignment[columns];
        var widths = new int[columns];
        for (int c = 0; c < columns; c++)
        {
            var requested = alignments?[c] ?? ColumnAlignment.None;
            resolved[c] = requested == ColumnAlignment.Numeric
                ? (IsNumericColumn(body.Select(r => r[c])) ? ColumnAlignment.Right : ColumnAlignment.None)
                : requested;
            widths[c] = Math.Max(MinColumnWidth, body.Select(r => r[c].Length).Append(header[c].Length).Max());
        }

        var table = new StringBuilder();
        AppendRow(table, header, widths, resolved);
        table.Append('|');
        for (int c = 0; c < columns; c++)
        {
            table.Append(' ');
            table.Append(resolved[c] is ColumnAlignment.Left or ColumnAlignment.Center ? ':' : '-');
            table.Append('-', widths[c] - 2);
            table.Append(resolved[c] is ColumnAlignment.Right or ColumnAlignment.Center ? ':' : '-');
            table.Append(" |");
        }
        table.Append('\n');
        foreach (var row in body) AppendRow(table, row, widths, resolved);
        return table.ToString();
    }

    /// <summary>
    /// Makes text safe inside one table cell: a pipe would end the cell and a line break the
    /// row, so pipes are backslash-escaped and line breaks become &lt;br&gt;.
    /// </summary>
    public static string Escape(string? cell)
    {
        if (string.IsNullOrEmpty(cell)) return "";
        return cell.Trim()
            .Replace("\r\n", "<br>", StringComparison.Ordinal)
            .Replace('\r', '\n')
            .Replace("\n", "<br>", StringComparison.Ordinal)
            .Replace("|", "\\|", StringComparison.Ordinal);
    }

    private static void AppendRow(StringBuilder table, IReadOnlyList<string> cells, int[] widths, ColumnAlignment[] alignments)
    {
        table.Append('|');
        for (int c = 0; c < cells.Count; c++)
        {
            table.Append(' ');
            int padding = widths[c] - cells[c].Length;
            switch (alignments[c])
            {
                case ColumnAlignment.Right:
                    table.Append(' ', padding).Append(cells[c]);
                    break;
                case ColumnAlignment.Center:
                    table.Append(' ', padding / 2).Append(cells[c]).Append(' ', padding - padding / 2);
                    break;
                default:
                    table.Append(cells[c]).Append(' ', padding);
                    break;
            }
            table.Append(" |");
        }
        table.Append('\n');
    }

    private static bool IsNumericColumn(IEnumerable<string> cells)
    {
        bool any = false;
        foreach (string cell in cells)
        {
            if (IsBlank(cell)) continue;
            if (!IsNumeric(cell)) return false;
            any = true;
        }
        return any;
    }

    // Placeholders for a missing number do not make a column textual.
    private static bool IsBlank(string cell) => cell is "" or "-" or "—" or "–" or "n/a" or "N/A";

    /// <summary>A number, optionally with a percent sign, or "mean ± sd" of two such numbers.</summary>
    private static bool IsNumeric(string cell)
    {
        string[] parts = cell.Split('±');
        if (parts.Length > 2) return false;
        foreach (string part in parts)
        {
            string number = part.Trim();
            if (number.EndsWith('%')) number = number[..^1].TrimEnd();
            if (!double.TryParse(number, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out _)) return false;
        }
        return true;
    }
}
