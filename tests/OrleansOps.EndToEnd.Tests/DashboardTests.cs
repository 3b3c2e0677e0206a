using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// The dashboard in headless Chromium (Debian's package, driven by Playwright) against the real server: each page renders
/// real data, an alert posted meanwhile appears without a reload, acknowledge works from the page, axe finds no
/// violation, and a screenshot of each page lands in artifacts/screenshots/.
/// </summary>
public sealed class DashboardTests
{
    public static string ScreenshotFolder => Path.Combine(ServerProcess.RepositoryRoot, "artifacts", "screenshots");

    [RequiresChromiumFact]
    public async Task Fleet_account_and_incident_pages_show_live_data_acknowledge_and_pass_axe()
    {
        await using var server = await ServerProcess.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumBrowser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var consoleErrors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") consoleErrors.Add($"{message.Text} {message.Location}"); };

        // Two past outages (10 weighted minutes of HealthNet's 21.6) for the burn-down and the headroom to show.
        var now = DateTimeOffset.UtcNow;
        string Past(int daysAgo, int minutes, string title) =>
            $$$"""{"service":"ehr-api","severity":"sev1","title":"{{{title}}}","startedAt":"{{{now.AddDays(-daysAgo):O}}}","acknowledgedAt":"{{{now.AddDays(-daysAgo).AddMinutes(2):O}}}","resolvedAt":"{{{now.AddDays(-daysAgo).AddMinutes(minutes):O}}}"}""";
        var (imported, problem) = await Api.PostAsync(server.Admin, "/api/v1/accounts/healthnet/incidents/import",
            $$"""{"incidents":[{{Past(12, 4, "Database failover")}},{{Past(5, 6, "Certificate expired")}}]}""");
        Assert.True(imported == 200, problem?.ToJsonString());

        // Sign in with the admin token; a wrong one is refused on the page.
        await page.GotoAsync($"{server.BaseAddress}dashboard");
        await page.GetByLabel("API token").FillAsync("not-the-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That token was refused.");
        consoleErrors.Clear(); // the refused token's 401
        await page.GetByLabel("API token").FillAsync(ServerProcess.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        // Fleet: the demo accounts, by risk, with their budget gauges.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Fleet", Exact = true })).ToBeVisibleAsync();
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Accounts, most at risk first" }).GetByRole(AriaRole.Row);
        await Expect(rows).ToHaveCountAsync(4); // header and three accounts
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "HealthNet Hospitals" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Meter, new() { Name = "Budget left for Telco Core" })).ToBeVisibleAsync();
        await Expect(page.GetByText("3 accounts: 0 breached")).ToBeVisibleAsync();
        // The operator's report of the month: every account in one page.
        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var fleetReport = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = $"{month} HTML" }).ClickAsync());
        Assert.Equal($"sla-fleet-{month}.html", fleetReport.SuggestedFilename);
        var fleetHtml = await File.ReadAllTextAsync((await fleetReport.PathAsync())!);
        Assert.Contains($"Fleet SLA report: {month}", fleetHtml);
        Assert.Contains("HealthNet Hospitals", fleetHtml);
        Assert.Contains("Telco Core", fleetHtml);
        await CheckAndCaptureAsync(page, "fleet");

        // Account: budgets with a burn-down chart, KPIs, clocks; no open incident yet.
        await page.GetByRole(AriaRole.Link, new() { Name = "HealthNet Hospitals" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "HealthNet Hospitals" })).ToBeVisibleAsync();
        var chart = page.GetByRole(AriaRole.Group, new() { Name = "Budget burn-down of availability" });
        await Expect(chart).ToBeVisibleAsync();
        await Expect(chart).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex(@"^From 21\.6 minutes at .* to 11\.6 minutes left at .* 2 incidents in the window\.$"));
        // Each outage is a marker on the chart that names it and leads to its page.
        await Expect(chart.GetByRole(AriaRole.Link, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Certificate expired, sev1, from ") })).ToHaveCountAsync(1);
        await Expect(chart.GetByRole(AriaRole.Link, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Database failover, sev1, from ") })).ToHaveCountAsync(1);
        await Expect(page.GetByText("11.6 min of 21.6 min")).ToBeVisibleAsync();
        await Expect(page.GetByText("2.9 median incidents (4.0 min each), 1.9 at p90")).ToBeVisibleAsync();
        await Expect(page.GetByText("No open incident.")).ToBeVisibleAsync();
        // KPIs in the units people say: the outages were acknowledged after 2 minutes and lasted 4 and 6.
        var kpis = page.GetByRole(AriaRole.Table, new() { Name = "KPIs by severity against the contract's targets" });
        await Expect(kpis).ToContainTextAsync("2 min (target 7 min 30 s)");
        await Expect(kpis).ToContainTextAsync("4 min (target 1 h)");
        await Expect(page.GetByText("Live")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Who is on call now and next, per schedule" })).ToContainTextAsync("clinical-primary");

        // The month's report downloads as a page to send the customer, fetched with the operator's token.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = $"{month} HTML" }).ClickAsync());
        Assert.Equal($"sla-healthnet-{month}.html", download.SuggestedFilename);
        Assert.Contains("HealthNet Hospitals", await File.ReadAllTextAsync((await download.PathAsync())!));

        // A silence made on the page is listed, and ended from it.
        var silences = page.GetByRole(AriaRole.Table, new() { Name = "Silences: pending, active and recently ended, newest first" });
        await page.GetByLabel("Matchers, one per line").FillAsync("alertname=\"PlannedFailover\"");
        await page.GetByLabel("Why").FillAsync("failover drill");
        await page.GetByLabel("Your name").FillAsync("ana");
        await page.GetByRole(AriaRole.Button, new() { Name = "Silence", Exact = true }).ClickAsync();
        await Expect(silences).ToContainTextAsync("alertname=\"PlannedFailover\"");
        await Expect(silences).ToContainTextAsync("active");
        await page.GetByRole(AriaRole.Button, new() { Name = "End the silence alertname=\"PlannedFailover\" now" }).ClickAsync();
        await Expect(silences).ToContainTextAsync("ended by ana");

        // An alert posted now shows up on the open page, which does not reload (the marker survives).
        await page.EvaluateAsync("() => window.__sameDocument = true");
        var title = $"Dashboard{Guid.NewGuid():N}"[..20];
        var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts",
            $$$"""[{"labels":{"alertname":"{{{title}}}","service":"ehr-api","severity":"critical"},"annotations":{"summary":"<script>alert(1)</script> p99 above 2s","runbook_url":"https://runbooks.example.com/ehr-latency"}}]""",
            bearer: "demo-key-healthnet");
        Assert.Equal(200, status);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        var incidentLink = page.GetByRole(AriaRole.Table, new() { Name = "Open incidents, newest first" }).GetByRole(AriaRole.Link, new() { Name = $"{title} on ehr-api" });
        await Expect(incidentLink).ToBeVisibleAsync(new() { Timeout = 20_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded");
        // Its response clock runs, and names it.
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Response and resolution commitments over the last 30 days" })
            .GetByRole(AriaRole.Link, new() { Name = $"{title} on ehr-api" })).ToHaveCountAsync(2);
        await CheckAndCaptureAsync(page, "account");

        // Incident: the chronicle verifies; acknowledge from the page.
        await incidentLink.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"{title} on ehr-api" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Chronicle verified:")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Every step, oldest first" })).ToContainTextAsync("incident.opened");
        // The annotation is shown as text, never run.
        await Expect(page.GetByText("<script>alert(1)</script> p99 above 2s")).ToBeVisibleAsync();
        // Who is paged and what comes next, the contract's clocks counting down, the alert's runbook.
        var escalation = page.GetByRole(AriaRole.Region, new() { Name = "Escalation" });
        await Expect(escalation).ToContainTextAsync("clinical");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "SLA" })).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"sev1-response \(response within 15m\): due .*, in 1[45] min"));
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"Runbook: {title}" })).ToHaveAttributeAsync("href", "https://runbooks.example.com/ehr-latency");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Related" })).ToContainTextAsync("No other open incident on ehr-api.");
        await page.GetByLabel("Your name").FillAsync("ana");
        await page.GetByLabel("Note (for a resolve, a reopen, or on its own)").FillAsync("checking the database");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add note" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Every step, oldest first" })).ToContainTextAsync("checking the database");
        await page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Incident acknowledged by ana." })).ToBeVisibleAsync();
        await Expect(page.Locator("#incident-status")).ToHaveTextAsync("acknowledged");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" })).ToBeDisabledAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Every step, oldest first" })).ToContainTextAsync("Acknowledged by ana");
        await CheckAndCaptureAsync(page, "incident");

        var incident = await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{incidentId}");
        Assert.Equal("acknowledged", incident["status"]!.GetValue<string>());
        Assert.Equal("ana", incident["acknowledgedBy"]!.GetValue<string>());

        // Resolved over the API, the open page follows; reopened from the page, it pages again.
        await Api.PostAsync(server.Admin, $"/api/v1/incidents/{incidentId}/resolve", """{"actor":"ben","note":"rolled back"}""");
        await Expect(page.Locator("#incident-status")).ToHaveTextAsync("resolved", new() { Timeout = 20_000 });
        await Expect(escalation).ToContainTextAsync("nothing: resolved");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reopen" }).ClickAsync();
        await Expect(page.Locator("#incident-status")).ToHaveTextAsync("triggered");
        await page.GetByRole(AriaRole.Button, new() { Name = "Escalate now" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Incident escalated by ana." })).ToBeVisibleAsync();

        // The fleet lists it among every account's incidents, and its filters narrow the list.
        await page.GetByRole(AriaRole.Link, new() { Name = "Fleet" }).ClickAsync();
        var fleetIncidents = page.GetByRole(AriaRole.Table, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Incidents across the fleet") });
        await Expect(fleetIncidents.GetByRole(AriaRole.Link, new() { Name = $"{title} on ehr-api" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Accounts, most at risk first" })).ToContainTextAsync("1 sev1");
        await page.GetByLabel("Search title, id or service").FillAsync(title[..12]);
        await Expect(fleetIncidents.GetByRole(AriaRole.Row)).ToHaveCountAsync(2);
        await page.GetByLabel("Severity").SelectOptionAsync("sev4");
        await Expect(page.GetByText("No incident matches.")).ToBeVisibleAsync();
        await page.GetByLabel("Severity").SelectOptionAsync("sev1");
        await Expect(fleetIncidents.GetByRole(AriaRole.Link, new() { Name = $"{title} on ehr-api" })).ToBeVisibleAsync();
        await CheckAndCaptureAsync(page, "fleet-incidents");

        // On a phone the account page keeps every section, readable and without a violation.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync($"{server.BaseAddress}dashboard/accounts/healthnet");
        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Budget burn-down of availability" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "On call" })).ToBeVisibleAsync();
        await CheckAndCaptureAsync(page, "account-phone");
        await page.SetViewportSizeAsync(1280, 900);

        // Cluster: the one silo, active, serving the page; the grains the test touched are active.
        await page.GetByRole(AriaRole.Link, new() { Name = "Cluster" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Silos in the membership table" })).ToContainTextAsync("(serving this page)");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Silos in the membership table" })).ToContainTextAsync("active");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Activations by grain type" })).ToContainTextAsync("IncidentGrain");
        await CheckAndCaptureAsync(page, "cluster");

        // LogiShip's weekly maintenance window, as its configuration states it.
        await page.GotoAsync($"{server.BaseAddress}dashboard/accounts/logiship");
        var windows = page.GetByRole(AriaRole.Table, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Maintenance windows in the account's configuration") });
        await Expect(windows).ToContainTextAsync("Weekly database reindex");
        await Expect(windows).ToContainTextAsync("cron 0 2 * * 0, for 2h");
        await Expect(windows).ToContainTextAsync("Europe/Amsterdam");
        await CheckAndCaptureAsync(page, "account-maintenance");
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors));
    }

    [RequiresChromiumFact]
    public async Task An_account_token_signs_in_to_its_own_account_and_sees_no_other()
    {
        await using var server = await ServerProcess.StartAsync();
        var (issued, token) = await Api.PostAsync(server.Admin, "/api/v1/tokens", """{"name":"healthnet-noc","scope":"account","account":"healthnet"}""");
        Assert.Equal(201, issued);
        var text = token!["token"]!.GetValue<string>();
        server.TreatAsSecret(text);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumBrowser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // Signed in, the account token lands on its account; the fleet and the cluster are not offered.
        await page.GotoAsync($"{server.BaseAddress}dashboard");
        await page.GetByLabel("API token").FillAsync(text);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "HealthNet Hospitals" })).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard/accounts/healthnet$"));
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).ToBeHiddenAsync();

        // The fleet's address leads home; another account's page finds nothing.
        await page.GotoAsync($"{server.BaseAddress}dashboard");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard/accounts/healthnet$"));
        await page.GotoAsync($"{server.BaseAddress}dashboard/accounts/logiship");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("No account 'logiship'.");
        await Expect(page.GetByText("LogiShip", new() { Exact = true })).ToHaveCountAsync(0); // the account's name, never read
    }

    [RequiresChromiumFact]
    public async Task Two_incidents_of_one_failure_merge_from_the_page_and_an_alert_splits_back_out()
    {
        await using var server = await ServerProcess.StartAsync();
        async Task<string> OpenAsync(string name)
        {
            var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts",
                $$$"""[{"labels":{"alertname":"{{{name}}}","service":"ehr-api","severity":"critical"}}]""", bearer: "demo-key-healthnet");
            Assert.Equal(200, status);
            return receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        }
        var first = await OpenAsync("EhrDatabaseDown");
        var second = await OpenAsync("EhrHighErrorRate");
        Assert.NotEqual(first, second);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumBrowser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await page.GotoAsync($"{server.BaseAddress}dashboard/incidents/{second}");
        await page.GetByLabel("API token").FillAsync(ServerProcess.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByLabel("Your name").FillAsync("ana");

        // The errors were the database: merged into its incident from the related list, which then opens.
        await page.GetByLabel("Reason to merge or split (required; on both chronicles)").FillAsync("the errors were the database");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Merge this incident into EhrDatabaseDown on ehr-api ({first})" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/dashboard/incidents/{first}$"));
        var alerts = page.GetByRole(AriaRole.Table, new() { Name = "Alerts in this incident" });
        await Expect(alerts).ToContainTextAsync($"(merged from {second})");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Every step, oldest first" })).ToContainTextAsync("incident.merged");
        Assert.Equal(first, (await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{second}"))["mergedInto"]!.GetValue<string>());
        await CheckAndCaptureAsync(page, "incident-merged");

        // Not so after all: the error alert is ticked and split out into an incident of its own, which opens.
        await page.GetByLabel("Your name").FillAsync("ana");
        await page.GetByLabel("Reason to merge or split (required; on both chronicles)").FillAsync("a bad deploy after all");
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Split out EhrHighErrorRate" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Split the ticked alerts out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "EhrHighErrorRate on ehr-api" })).ToBeVisibleAsync();
        Assert.Equal(1, (await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{first}"))["alertCount"]!.GetValue<int>());
    }

    [RequiresChromiumFact]
    public async Task A_spent_budget_reads_as_spent_and_an_operator_leaves_the_outage_out_from_the_incident_page()
    {
        await using var server = await ServerProcess.StartAsync();
        // One 40-minute sev1 outage against HealthNet's 21.6 minutes of budget.
        var now = DateTimeOffset.UtcNow;
        var (imported, result) = await Api.PostAsync(server.Admin, "/api/v1/accounts/healthnet/incidents/import",
            $$$"""{"incidents":[{"service":"ehr-api","severity":"sev1","title":"Data centre power loss","startedAt":"{{{now.AddDays(-3):O}}}","acknowledgedAt":"{{{now.AddDays(-3).AddMinutes(1):O}}}","resolvedAt":"{{{now.AddDays(-3).AddMinutes(40):O}}}"}]}""");
        Assert.True(imported == 200, result?.ToJsonString());
        var sla = await Api.GetOkAsync(server.Admin, "/api/v1/accounts/healthnet/sla");
        var availability = sla["slos"]!.AsArray().First(s => s!["id"]!.GetValue<string>() == "availability")!;
        Assert.True(availability["remainingMinutes"]!.GetValue<double>() < 0, availability.ToJsonString());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumBrowser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await page.GotoAsync($"{server.BaseAddress}dashboard/accounts/healthnet");
        await page.GetByLabel("API token").FillAsync(ServerProcess.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var card = page.GetByRole(AriaRole.Article).Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "availability" }) });
        await Expect(card).ToContainTextAsync("Exhausted");
        await Expect(card).ToContainTextAsync("spent: 18.4 min over the budget");
        await Expect(card).ToContainTextAsync("none: the budget is spent");
        await Expect(card).Not.ToContainTextAsync("Exhausted in");
        await Expect(card).Not.ToContainTextAsync("0 min (");
        await Expect(card).Not.ToContainTextAsync("median incidents");
        await CheckAndCaptureAsync(page, "account-spent");

        // The outage was the customer's own: left out of the SLA from its page, with a reason; the budget is whole again.
        await page.GotoAsync($"{server.BaseAddress}dashboard/incidents/{result!["incidents"]![0]!.GetValue<string>()}");
        await Expect(page.GetByText("Counted against the account's SLOs as it happened.")).ToBeVisibleAsync();
        await page.GetByLabel("Your name").FillAsync("ana");
        await page.GetByRole(AriaRole.Button, new() { Name = "Leave out of the SLA" }).ClickAsync(); // no reason yet: the form says so
        await Expect(page.GetByText("Counted against the account's SLOs as it happened.")).ToBeVisibleAsync();
        await page.GetByLabel("Reason (required; on the chronicle and the reports)").FillAsync("the customer's own power test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Leave out of the SLA" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Left out of every SLO." })).ToBeVisibleAsync();
        await Expect(page.GetByText(new System.Text.RegularExpressions.Regex("^Corrected: left out of every SLO, by ana at .* \\(the customer's own power test\\)\\.$"))).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Every step, oldest first" })).ToContainTextAsync("sla.corrected");
        await CheckAndCaptureAsync(page, "incident-corrected");

        await page.GetByRole(AriaRole.Link, new() { Name = "healthnet" }).ClickAsync();
        await Expect(card).ToContainTextAsync("21.6 min of 21.6 min");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Incidents whose count an operator corrected, in the windows above" }))
            .ToContainTextAsync("Data centre power loss");
    }

    [RequiresChromiumFact]
    public async Task A_link_from_a_page_opens_signed_in_only_where_the_operator_chose_to_stay_signed_in()
    {
        await using var server = await ServerProcess.StartAsync();
        var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts",
            """[{"labels":{"alertname":"LinkFollowed","service":"ehr-api","severity":"critical"}}]""", bearer: "demo-key-healthnet");
        Assert.Equal(200, status);
        var link = $"{server.BaseAddress}dashboard/incidents/{receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>()}";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumBrowser.LaunchAsync(playwright);

        async Task<IPage> SignInAsync(IBrowserContext context, bool stay)
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync($"{server.BaseAddress}dashboard");
            await page.GetByLabel("API token").FillAsync(ServerProcess.AdminToken);
            if (stay) await page.GetByLabel("Stay signed in on this browser").CheckAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Fleet", Exact = true })).ToBeVisibleAsync();
            return page;
        }

        // The page runs and loads only its own files and calls only this server, whatever a label holds.
        using (var served = await server.Anonymous.GetAsync("/dashboard"))
        {
            var policy = string.Join(";", served.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", policy);
            Assert.Contains("connect-src 'self'", policy);
            Assert.Contains("frame-ancestors 'none'", policy);
            Assert.Equal("no-referrer", Assert.Single(served.Headers.GetValues("Referrer-Policy")));
        }

        // Kept for the tab only (the default): the link, opened in another tab, asks for the token.
        await using (var tabOnly = await browser.NewContextAsync())
        {
            await SignInAsync(tabOnly, stay: false);
            var other = await tabOnly.NewPageAsync();
            await other.GotoAsync(link);
            await Expect(other.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        }

        // Kept on this browser: the link opens the incident; signing out forgets the token for every tab.
        await using var kept = await browser.NewContextAsync();
        var first = await SignInAsync(kept, stay: true);
        var opened = await kept.NewPageAsync();
        await opened.GotoAsync(link);
        await Expect(opened.GetByRole(AriaRole.Heading, new() { Name = "LinkFollowed on ehr-api" })).ToBeVisibleAsync();
        await CheckAndCaptureAsync(opened, "incident-from-link");
        await first.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        var later = await kept.NewPageAsync();
        await later.GotoAsync(link);
        await Expect(later.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    /// <summary>axe-core finds no violation (WCAG 2 A and AA rules, and best practices), and the page is saved as a PNG.</summary>
    private static async Task CheckAndCaptureAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, $"{name}.png"), FullPage = true });
        var result = await page.RunAxe();
        Assert.True(result.Violations.Length == 0, $"{name}: " + string.Join("\n", result.Violations.Select(Describe)));
    }

    private static string Describe(AxeResultItem violation) =>
        $"{violation.Id} ({violation.Impact}): {violation.Help} at {string.Join(", ", violation.Nodes.Select(n => n.Target?.ToString()))}";
}

/// <summary>Debian's chromium, started headless with the flags this machine's closed network needs.</summary>
public static class ChromiumBrowser
{
    public static string? Binary { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Binary ?? throw new InvalidOperationException("chromium is not installed"),
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
}
