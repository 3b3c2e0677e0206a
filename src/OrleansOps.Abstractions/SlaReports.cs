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

    private static readonly string[] IncidentColumns = ["incident", "title", "service", "severity", "started", "acknowledged", "resolved", "minutes"];

    private static readonly string[] KpiColumns =
    [
        "severity", "incidents", "mtta_median_minutes", "mtta_target_minutes", "mttr_median_minutes", "mttr_target_minutes", "mttd_median_minutes",
        "acknowledged_percent", "escalations_per_incident",
    ];

    private static readonly string[] CorrectionColumns = ["incident", "title", "service", "severity", "started", "resolved", "correction", "by", "at", "reason"];

    /// <summary>
    /// The SLO rows (each with the account and period, for spreadsheets that merge months), then, each after a blank line
    /// and its own header, the month's incidents and the corrected ones.
    /// </summary>
    public static string Csv(SlaReport report)
    {
        var csv = new StringBuilder();
        void Table(string[] columns, IEnumerable<string[]> rows)
        {
            csv.AppendLine(string.Join(',', columns));
            foreach (var row in rows) csv.AppendLine(string.Join(',', row.Select(Cell)));
        }
        Table(Columns, report.Slos.Select(slo => new[] { report.Account, report.Name, report.Period }.Concat(SloRow(slo)).ToArray()));
        if (report.Kpis.Any(k => k.Kpis.Incidents > 0))
        {
            csv.AppendLine();
            Table(KpiColumns, report.Kpis.Select(KpiRow));
        }
        if (report.Incidents.Count > 0)
        {
            csv.AppendLine();
            Table(IncidentColumns, report.Incidents.Select(IncidentRow));
        }
        if (report.Corrections.Count > 0)
        {
            csv.AppendLine();
            Table(CorrectionColumns, report.Corrections.Select(Correction));
        }
        return csv.ToString();
    }

    /// <summary>The SLO rows of every account, one after the other: the same columns as an account's report, to merge or pivot.</summary>
    public static string Csv(FleetReport fleet)
    {
        var csv = new StringBuilder().AppendLine(string.Join(',', Columns));
        foreach (var report in fleet.Accounts)
            foreach (var slo in report.Slos)
                csv.AppendLine(string.Join(',', new[] { report.Account, report.Name, report.Period }.Concat(SloRow(slo)).Select(Cell)));
        return csv.ToString();
    }

    /// <summary>For the operator: each account's month in one row (SLOs breached, credit owed, incidents, corrections), then every SLO.</summary>
    public static string Html(FleetReport fleet)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Fleet SLA report ")
            .Append(Encode(fleet.Period)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        html.Append("<h1>Fleet SLA report: ").Append(Encode(fleet.Period)).Append("</h1>");
        var owing = fleet.Accounts.Count(r => (r.Slos.Max(s => s.CreditPercent) ?? 0) > 0);
        html.Append("<p class=\"lead\">").Append(fleet.Accounts.Count).Append(" accounts; ")
            .Append(fleet.Accounts.Count(r => r.Slos.All(s => s.Status != SloHealth.Breached))).Append(" met every SLO; ")
            .Append(owing).Append(owing == 1 ? " owes" : " owe").Append(" a service credit. Each account's month is read in its own time zone.</p>");
        Table(html, "Accounts", ["account", "name", "slos", "breached", "credit_percent", "incidents", "corrected", "period"],
            fleet.Accounts.Select(r => new[]
            {
                r.Account, r.Name, Number(r.Slos.Count), Number(r.Slos.Count(s => s.Status == SloHealth.Breached)), Number(r.Slos.Max(s => s.CreditPercent) ?? 0),
                Number(r.Incidents.Count), Number(r.Corrections.Count), r.Closed ? "closed" : "in progress",
            }), row => row[3] == "0" ? null : "breached");
        Table(html, "Every SLO", ["account", .. Columns[3..]],
            fleet.Accounts.SelectMany(r => r.Slos.Select(slo => new[] { r.Account }.Concat(SloRow(slo)).ToArray())), row => row[3] == "healthy" ? null : row[3]);
        html.Append("</body></html>");
        return html.ToString();
    }

    private static void Table(StringBuilder html, string caption, string[] columns, IEnumerable<string[]> rows, Func<string[], string?>? rowClass = null)
    {
        html.Append("<table><caption>").Append(Encode(caption)).Append("</caption><thead><tr>");
        foreach (var column in columns) html.Append("<th scope=\"col\">").Append(Encode(column.Replace('_', ' '))).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append(rowClass?.Invoke(row) is { } css ? $"<tr class=\"{css}\">" : "<tr>");
            foreach (var value in row) html.Append("<td>").Append(Encode(value)).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
    }

    /// <summary>A page to send a customer: the month's standing, its SLOs, the incidents behind them and any corrections, styled inline.</summary>
    public static string Html(SlaReport report)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>SLA report ")
            .Append(Encode(report.Name)).Append(' ').Append(Encode(report.Period)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        html.Append("<h1>SLA report: ").Append(Encode(report.Name)).Append(", ").Append(Encode(report.Period)).Append("</h1>");
        html.Append("<p class=\"lead\">").Append(report.Closed ? "Period closed" : "Period in progress").Append(": ")
            .Append(Encode(Instant(report.From))).Append(" to ").Append(Encode(Instant(report.To))).Append(". ")
            .Append(Encode(Standing(report))).Append("</p>");
        Table(html, "Service level objectives", Columns[3..], report.Slos.Select(SloRow), row => row[2] == "healthy" ? null : row[2]);
        if (report.Kpis.Any(k => k.Kpis.Incidents > 0))
            Table(html, "Response and resolution by severity (medians; targets from the contract)", KpiColumns,
                report.Kpis.Where(k => k.Kpis.Incidents > 0).Select(KpiRow), row => Over(row[2], row[3]) || Over(row[4], row[5]) ? "atRisk" : null);
        Table(html, $"Incidents in {report.Period}", IncidentColumns, report.Incidents.Select(IncidentRow));
        if (report.Incidents.Count == 0) html.Append("<p>No incident in the period.</p>");
        if (report.Corrections.Count > 0) Table(html, "Incidents whose count was corrected, and why", CorrectionColumns, report.Corrections.Select(Correction));
        html.Append("</body></html>");
        return html.ToString();
    }

    private const string Style =
        "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;max-width:1100px;margin:2rem auto;padding:0 1rem}" +
        "h1{font-size:1.5rem;margin:0 0 .25rem}.lead{color:#4a5360;margin:0 0 1.5rem}" +
        "table{border-collapse:collapse;width:100%;margin:0 0 2rem;font-variant-numeric:tabular-nums}" +
        "caption{text-align:left;font-weight:600;font-size:1.1rem;padding:.5rem 0}" +
        "th{text-align:left;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#4a5360;border-bottom:2px solid #d0d7de;padding:.4rem .5rem}" +
        "td{border-bottom:1px solid #eaeef2;padding:.4rem .5rem}tr.breached td{background:#fff1f0}tr.atRisk td{background:#fff8e6}" +
        // Printed (or saved as PDF from the browser): A4 landscape, tables not split mid-row, the row colours kept.
        "@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;max-width:none;font-size:11px}tr{break-inside:avoid}" +
        "caption{break-after:avoid}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

    /// <summary>The month in one sentence: how many SLOs were met, and the credit owed, if any.</summary>
    private static string Standing(SlaReport report)
    {
        var breached = report.Slos.Count(s => s.Status == SloHealth.Breached);
        var credit = report.Slos.Max(s => s.CreditPercent) ?? 0;
        return (breached == 0 ? $"All {report.Slos.Count} SLOs met" : $"{breached} of {report.Slos.Count} SLOs breached")
            + (credit > 0 ? $"; service credit {Number(credit)} %." : ".")
            + $" {report.Incidents.Count} incident{(report.Incidents.Count == 1 ? "" : "s")} in the period"
            + (report.Corrections.Count > 0 ? $", {report.Corrections.Count} of them corrected by an operator." : ".");
    }

    private static string[] SloRow(SloView slo) =>
    [
        slo.Id, slo.Kind, Status(slo.Status), Number(slo.Target), Number(slo.Sli), Number(slo.BudgetMinutes), Number(slo.DowntimeMinutes),
        Number(slo.RemainingMinutes), Number(slo.CreditPercent), slo.Limit ?? "", Number(slo.Incidents), Number(slo.Met), Number(slo.Breached),
    ];

    private static string[] KpiRow(KpiView k) =>
    [
        k.Severity, Number(k.Kpis.Incidents), Number(Round(k.Kpis.Mtta.MedianMinutes)), Number(k.Targets.MttaMinutes), Number(Round(k.Kpis.Mttr.MedianMinutes)),
        Number(k.Targets.MttrMinutes), Number(Round(k.Kpis.Mttd.MedianMinutes)), Number(Round(k.Kpis.AcknowledgementRate * 100)), Number(Round(k.Kpis.EscalationsPerIncident)),
    ];

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;

    /// <summary>Whether a median (as its cell reads) is over its target, where both are given.</summary>
    private static bool Over(string median, string target) =>
        double.TryParse(median, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && double.TryParse(target, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && m > t;

    private static string[] IncidentRow(IncidentTimes i) =>
    [
        i.IncidentId, i.Title, i.Service, i.Severity.ToWire(), Instant(i.StartedAt), i.AcknowledgedAt is { } ack ? Instant(ack) : "",
        i.ResolvedAt is { } resolved ? Instant(resolved) : "", i.ResolvedAt is { } end ? Number(Math.Round((end - i.StartedAt).TotalMinutes, 1)) : "",
    ];

    private static string[] Correction(CorrectedIncident c) =>
    [
        c.IncidentId, c.Title, c.Service, c.Severity.ToWire(), Instant(c.StartedAt), c.ResolvedAt is { } resolved ? Instant(resolved) : "",
        c.Correction.Describe(), c.Correction.Actor, Instant(c.Correction.At), c.Correction.Reason,
    ];

    private static string Instant(DateTimeOffset at) => at.ToString("u", CultureInfo.InvariantCulture);

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
