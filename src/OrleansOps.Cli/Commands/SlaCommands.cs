using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    /// <summary>How many of the latest SLA transitions the table shows; --json has the API's full list.</summary>
    private const int EventsShown = 10;

    /// <summary><c>opsctl sla &lt;account&gt;</c>: the live SLA snapshot, as GET /api/v1/accounts/{id}/sla answers it.</summary>
    private static Command Sla()
    {
        var accountId = AccountArgument();
        var wide = new Option<bool>("--wide") { Description = "Every column (burn rates per window, budget and downtime apart, the window, drift): about 200 columns" };
        var sla = new Command("sla", "An account's SLOs now: SLI, error budget, burn rates, time to exhaustion, status; clocks; recent transitions") { accountId, wide };
        sla.SetAction((parse, cancel) => Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
        {
            var found = await grains.SlaAsync(parse.GetValue(accountId)!);
            if (found.Value is not { } response) return Fail(Refused, found.Missing!);
            output.Write(response, parse.GetValue(wide) ? ShowSlaWide : ShowSla);
            return Done;
        }));
        return sla;
    }

    /// <summary>What an operator reads first, within 120 columns: how much budget is left, how fast it goes, and the clocks.</summary>
    private static void ShowSla(IAnsiConsole console, SlaResponse sla)
    {
        console.MarkupLine($"{Output.Text(sla.Account)}: {Output.Health(sla.Status)} at {Output.Time(sla.At)}   (--wide: every column)");
        var availability = sla.Slos.Where(s => s.Kind == "availability").ToList();
        if (availability.Count > 0)
        {
            var table = Output.Table("AVAILABILITY", "TARGET", "SLI", "BUDGET LEFT", "BURN 1H", "EXHAUSTED IN", "STATUS");
            foreach (var slo in availability)
                table.AddRow(Output.Text(slo.Id), Output.Number(slo.Target) + "%", Output.Number(slo.Sli) + "%",
                    $"{Output.Number(slo.RemainingMinutes, "0.#")} of {Output.Number(slo.BudgetMinutes, "0.#")} min",
                    Output.Number(slo.BurnRates?.GetValueOrDefault("1h"), "0.#"),
                    slo.RemainingMinutes <= 0 ? "spent" : Output.Duration(slo.TimeToExhaustionMinutes), Output.Health(slo.Status));
            console.Write(table);
        }
        var clocks = sla.Slos.Where(s => s.Kind != "availability").ToList();
        if (clocks.Count > 0)
        {
            var table = Output.Table("CLOCK", "LIMIT", "MET", "BREACHED", "COMPLIANCE", "RUNNING", "STATUS");
            foreach (var slo in clocks)
                table.AddRow(Output.Text(slo.Id), Output.Text(slo.Limit), Output.Number(slo.Met), Output.Number(slo.Breached),
                    slo.Sli is { } compliance ? Output.Number(compliance, "0.##") + "%" : "-", Output.Number(slo.Running?.Count ?? 0),
                    Output.Health(slo.Status) + (slo.Drift is { Drifting: true } ? " (drifting)" : ""));
            console.Write(table);
        }
        if (availability.Count == 0 && clocks.Count == 0) console.MarkupLine("No SLA: the account's contract sets no SLO.");
        ShowSlaEvents(console, sla, detailWidth: 48);
    }

    /// <summary>A rolling window ends now and is told by its length; a calendar month by its bounds.</summary>
    private static string Window(SloView slo, DateTimeOffset at) => slo.WindowEnd == at
        ? Durations.Format(slo.WindowEnd - slo.WindowStart) + " rolling"
        : $"{slo.WindowStart.UtcDateTime:yyyy-MM-dd HH:mm}Z to {slo.WindowEnd.UtcDateTime:yyyy-MM-dd HH:mm}Z";

    private static void ShowSlaWide(IAnsiConsole console, SlaResponse sla)
    {
        console.MarkupLine($"{Output.Text(sla.Account)}: {Output.Health(sla.Status)} at {Output.Time(sla.At)}");
        var availability = sla.Slos.Where(s => s.Kind == "availability").ToList();
        if (availability.Count > 0)
        {
            var table = Output.Table("AVAILABILITY", "TARGET", "WINDOW", "SLI", "BUDGET MIN", "DOWN MIN", "LEFT MIN", "CONSUMED",
                "BURN " + string.Join("/", BurnAlerts.Windows.Select(BurnAlerts.Key)), "BURN ALERTS", "EXHAUSTED IN", "HEADROOM", "STATUS");
            foreach (var slo in availability)
            {
                table.AddRow(Output.Text(slo.Id), Output.Number(slo.Target) + "%", Window(slo, sla.At), Output.Number(slo.Sli) + "%",
                    Output.Number(slo.BudgetMinutes, "0.##"), Output.Number(slo.DowntimeMinutes, "0.##"), Output.Number(slo.RemainingMinutes, "0.##"),
                    Output.Percent(slo.Consumed), string.Join("/", BurnAlerts.Windows.Select(w => Output.Number(slo.BurnRates?.GetValueOrDefault(BurnAlerts.Key(w)), "0.#"))),
                    slo.BurnAlerts is { Count: > 0 } alerts ? Output.Text(string.Join(", ", alerts)) : "-",
                    Output.Duration(slo.TimeToExhaustionMinutes), Output.Number(slo.Headroom?.Median, "0.#"), Output.Health(slo.Status));
            }
            console.Write(table);
        }
        var clocks = sla.Slos.Where(s => s.Kind != "availability").ToList();
        if (clocks.Count > 0)
        {
            var table = Output.Table("CLOCK", "KIND", "LIMIT", "INCIDENTS", "MET", "BREACHED", "COMPLIANCE", "RUNNING", "DRIFTING", "STATUS");
            foreach (var slo in clocks)
            {
                var running = slo.Running is { Count: > 0 } open ? $"{open.Count}, next deadline {Output.Time(open.Min(r => r.Deadline))}" : "0";
                table.AddRow(Output.Text(slo.Id), Output.Text(slo.Kind), Output.Text(slo.Limit), Output.Number(slo.Incidents), Output.Number(slo.Met),
                    Output.Number(slo.Breached), slo.Sli is { } compliance ? Output.Number(compliance, "0.##") + "%" : "-", running,
                    slo.Drift is { Drifting: true } drift ? $"yes, toward {Output.Duration(drift.ProjectedMinutes)}" : "no", Output.Health(slo.Status));
            }
            console.Write(table);
        }
        if (availability.Count == 0 && clocks.Count == 0) console.MarkupLine("No SLA: the account's contract sets no SLO.");
        ShowSlaEvents(console, sla);
    }

    /// <param name="detailWidth">Wraps the detail within that many columns; none: on one line.</param>
    private static void ShowSlaEvents(IAnsiConsole console, SlaResponse sla, int? detailWidth = null)
    {
        if (sla.RecentEvents.Count == 0) return;
        var events = Output.Table("AT", "SLO", "EVENT", "DETAIL");
        if (detailWidth is { } width) events.Columns[3].Width(width);
        foreach (var e in sla.RecentEvents.Take(EventsShown))
            events.AddRow(Output.Time(e.At), Output.Text(e.Slo), e.Kind == SlaEventKind.Status && e.From is { } from ? $"{Output.Word(from)} to {Output.Health(e.To)}" : Output.Word(e.Kind),
                Output.Text(e.Detail));
        console.Write(events);
    }

    /// <summary><c>opsctl report &lt;account&gt; --period 2026-11</c>: the month's SLA report, as GET /api/v1/accounts/{id}/reports/sla.</summary>
    private static Command Report()
    {
        var accountId = AccountArgument();
        var period = new Option<string>("--period") { Description = "The month, e.g. 2026-11, in the account's time zone", Required = true };
        var format = new Option<string>("--format") { Description = "csv or html (the report as the API serves it), or table", DefaultValueFactory = _ => "table" };
        var file = new Option<FileInfo?>("--output", "-o") { Description = "Write the report to this file instead of the terminal" };
        var report = new Command("report", "An account's monthly SLA report: every SLO with its credit, the KPIs, the corrected incidents; as CSV, HTML or a table")
        {
            accountId, period, format, file,
        };
        report.Validators.Add(result =>
        {
            if (result.GetValue(format) is { } kind && kind is not ("table" or "csv" or "html"))
                result.AddError($"--format: '{kind}' is not table, csv or html");
        });
        report.SetAction((parse, cancel) => Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
        {
            var id = parse.GetValue(accountId)!;
            var errors = new List<string>();
            var found = await grains.ReportAsync(id, parse.GetValue(period), TimeProvider.System.GetUtcNow(), errors);
            if (errors.Count > 0) return Fail(Refused, string.Join("; ", errors));
            if (found.Value is not { } month) return Fail(Refused, found.Missing!);
            var text = parse.GetValue(format) switch { "csv" => SlaReports.Csv(month), "html" => SlaReports.Html(month), _ => null };
            if (parse.GetValue(file) is { } target)
            {
                await File.WriteAllTextAsync(target.FullName, text ?? SlaReports.Csv(month), cancel);
                Console.Out.WriteLine($"{id} {month.Period}: written to {target.FullName}");
            }
            else if (text is not null) Console.Out.Write(text);
            else output.Write(month, ShowReport);
            return Done;
        }));
        return report;
    }

    private static void ShowReport(IAnsiConsole console, SlaReport report)
    {
        console.MarkupLine($"{Output.Text(report.Name)} ({Output.Text(report.Account)}), {Output.Text(report.Period)}: {(report.Closed ? "closed" : "in progress")}, {Output.Time(report.From)} to {Output.Time(report.To)}");
        var slos = Output.Table("SLO", "KIND", "TARGET", "SLI", "LEFT MIN", "CREDIT", "STATUS");
        foreach (var slo in report.Slos)
            slos.AddRow(Output.Text(slo.Id), Output.Text(slo.Kind), slo.Target is { } target ? Output.Number(target) + "%" : Output.Text(slo.Limit),
                slo.Sli is { } sli ? Output.Number(sli, "0.####") + "%" : "-", Output.Number(slo.RemainingMinutes, "0.#"),
                slo.CreditPercent is { } credit ? Output.Number(credit) + "%" : "-", Output.Health(slo.Status));
        console.Write(slos);
        if (report.Corrections.Count == 0) return;
        var corrections = Output.Table("CORRECTED INCIDENT", "STARTED", "CORRECTION", "BY", "REASON");
        foreach (var c in report.Corrections)
            corrections.AddRow(Output.Text(c.IncidentId), Output.Time(c.StartedAt), Output.Text(c.Correction.Describe()), Output.Text(c.Correction.Actor), Output.Text(c.Correction.Reason));
        console.Write(corrections);
    }

    /// <summary><c>opsctl kpi &lt;account&gt;</c>: KPIs per severity against the targets the SLA implies, as GET /api/v1/accounts/{id}/kpis.</summary>
    private static Command Kpi()
    {
        var accountId = AccountArgument();
        var period = new Option<string>("--period") { Description = "30d (any duration up to 366d, ending now) or a month such as 2026-11 in the account's time zone", DefaultValueFactory = _ => KpiQuery.DefaultPeriod };
        var severity = new Option<string?>("--severity") { Description = "Only this severity: sev1, sev2, sev3 or sev4" };
        var kpi = new Command("kpi", "An account's MTTA, MTTR and MTTD (mean, median, p90) per severity against their targets, acknowledgement rate, escalations, noise reduction")
        {
            accountId, period, severity,
        };
        kpi.SetAction((parse, cancel) =>
        {
            var errors = new List<string>();
            var query = KpiQuery.Parse(parse.GetValue(period), parse.GetValue(severity), errors);
            if (query is null) return UsageError(string.Join("; ", errors.Select(e => "--" + e)));
            return Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
            {
                var found = await grains.KpisAsync(parse.GetValue(accountId)!, query, TimeProvider.System.GetUtcNow());
                if (found.Value is not { } response) return Fail(Refused, found.Missing!);
                output.Write(response, ShowKpis);
                return Done;
            });
        });
        return kpi;
    }

    private static void ShowKpis(IAnsiConsole console, KpisResponse kpis)
    {
        console.MarkupLine($"{Output.Text(kpis.Account)}: incidents opened from {Output.Time(kpis.From)} to {Output.Time(kpis.To)}; " +
                           $"noise reduction {Output.Percent(kpis.NoiseReduction)}");
        var table = Output.Table("SEVERITY", "INCIDENTS", "MTTA MEAN/MEDIAN/P90", "MTTA TARGET", "MTTR MEAN/MEDIAN/P90", "MTTR TARGET", "MTTD MEAN/MEDIAN/P90", "ACK RATE", "ESCALATIONS");
        foreach (var view in kpis.Severities)
            table.AddRow(view.Severity, view.Kpis.Incidents.ToString(), Stat(view.Kpis.Mtta), Target(view.Kpis.Mtta, view.Targets.MttaMinutes),
                Stat(view.Kpis.Mttr), Target(view.Kpis.Mttr, view.Targets.MttrMinutes), Stat(view.Kpis.Mttd), Output.Percent(view.Kpis.AcknowledgementRate),
                Output.Number(view.Kpis.EscalationsPerIncident, "0.##"));
        if (kpis.Severities.Count > 1)
            table.AddRow("all", kpis.All.Incidents.ToString(), Stat(kpis.All.Mtta), "", Stat(kpis.All.Mttr), "", Stat(kpis.All.Mttd),
                Output.Percent(kpis.All.AcknowledgementRate), Output.Number(kpis.All.EscalationsPerIncident, "0.##"));
        console.Write(table);

        static string Stat(Stat s) => s.Count == 0 ? "-" : $"{Output.Duration(s.MeanMinutes)} / {Output.Duration(s.MedianMinutes)} / {Output.Duration(s.P90Minutes)}";

        // Against the p90, not the mean: the target is a promise to nearly every customer, not to the average one.
        static string Target(Stat s, double? target) => target switch
        {
            null => "-",
            { } t when s.P90Minutes is { } p90 => $"{Output.Duration(t)} " + (p90 <= t ? "[green]met[/]" : "[red]missed[/]"),
            { } t => Output.Duration(t),
        };
    }
}
