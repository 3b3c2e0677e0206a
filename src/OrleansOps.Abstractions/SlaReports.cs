using System.Globalization;
using System.Net;
using System.Text;

namespace OrleansOps.Abstractions;

/// <summary>The monthly SLA report as CSV (for spreadsheets) and HTML (for people). Every value from the account is untrusted.</summary>
public static class SlaReports
{
    private static readonly string[] Columns =
    [
        "account", "account_name", "period", "slo", "kind", "status", "target", "sli_percent", "budget_minutes", "downtime_minutes",
        "remaining_minutes", "credit_percent", "limit", "incidents", "met", "breached",
    ];

    public static string Csv(SlaReport report)
    {
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', Columns));
        foreach (var slo in report.Slos)
        {
            csv.AppendLine(string.Join(',', new[]
            {
                report.Account, report.Name, report.Period, slo.Id, slo.Kind, Status(slo.Status), Number(slo.Target), Number(slo.Sli),
                Number(slo.BudgetMinutes), Number(slo.DowntimeMinutes), Number(slo.RemainingMinutes), Number(slo.CreditPercent),
                slo.Limit ?? "", Number(slo.Incidents), Number(slo.Met), Number(slo.Breached),
            }.Select(Cell)));
        }
        if (report.Corrections.Count > 0)
        {
            // A second table after a blank line: the incidents an operator corrected, which the rows above count as corrected.
            csv.AppendLine().AppendLine(string.Join(',', CorrectionColumns));
            foreach (var c in report.Corrections)
                csv.AppendLine(string.Join(',', Correction(c).Select(Cell)));
        }
        return csv.ToString();
    }

    private static readonly string[] CorrectionColumns = ["incident", "title", "service", "severity", "started", "resolved", "correction", "by", "at", "reason"];

    private static string[] Correction(CorrectedIncident c) =>
    [
        c.IncidentId, c.Title, c.Service, c.Severity.ToWire(), Instant(c.StartedAt), c.ResolvedAt is { } resolved ? Instant(resolved) : "",
        c.Correction.Describe(), c.Correction.Actor, Instant(c.Correction.At), c.Correction.Reason,
    ];

    private static string Instant(DateTimeOffset at) => at.ToString("u", CultureInfo.InvariantCulture);

    public static string Html(SlaReport report)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>SLA report ")
            .Append(Encode(report.Name)).Append(' ').Append(Encode(report.Period)).Append("</title></head><body>");
        html.Append("<h1>SLA report: ").Append(Encode(report.Name)).Append(", ").Append(Encode(report.Period)).Append("</h1>");
        html.Append("<p>").Append(report.Closed ? "Period closed" : "Period in progress").Append(": ")
            .Append(Encode(report.From.ToString("u", CultureInfo.InvariantCulture))).Append(" to ")
            .Append(Encode(report.To.ToString("u", CultureInfo.InvariantCulture))).Append("</p>");
        html.Append("<table><caption>Service level objectives</caption><thead><tr>");
        foreach (var column in Columns.Skip(3)) html.Append("<th scope=\"col\">").Append(Encode(column.Replace('_', ' '))).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var slo in report.Slos)
        {
            html.Append("<tr>");
            foreach (var value in new[]
            {
                slo.Id, slo.Kind, Status(slo.Status), Number(slo.Target), Number(slo.Sli), Number(slo.BudgetMinutes),
                Number(slo.DowntimeMinutes), Number(slo.RemainingMinutes), Number(slo.CreditPercent), slo.Limit ?? "",
                Number(slo.Incidents), Number(slo.Met), Number(slo.Breached),
            })
                html.Append("<td>").Append(Encode(value)).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (report.Corrections.Count > 0)
        {
            html.Append("<table><caption>Incidents whose count was corrected</caption><thead><tr>");
            foreach (var column in CorrectionColumns) html.Append("<th scope=\"col\">").Append(Encode(column)).Append("</th>");
            html.Append("</tr></thead><tbody>");
            foreach (var c in report.Corrections)
            {
                html.Append("<tr>");
                foreach (var value in Correction(c)) html.Append("<td>").Append(Encode(value)).Append("</td>");
                html.Append("</tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</body></html>");
        return html.ToString();
    }

    /// <summary>As the JSON says it: healthy, atRisk, breached.</summary>
    private static string Status(SloHealth status) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    private static string Number(double? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? "";

    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>
    /// A CSV cell: quoted when it holds a separator, quote or line break; and a value a spreadsheet would run as a
    /// formula (starting with = + - @, a tab or a carriage return) is prefixed with an apostrophe so it stays text.
    /// </summary>
    public static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
