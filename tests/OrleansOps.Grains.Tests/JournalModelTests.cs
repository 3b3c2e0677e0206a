using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace OrleansOps.Grains.Tests;

/// <summary>
/// Model-based tests of what the journal keeps: random operations, commits, flushes of a prefix, snapshots and a crash;
/// then the state recovered from the journal must equal a reference that was fed only the operations whose entries were
/// durable, and replaying the same entries again must change nothing.
/// </summary>
public sealed class JournalModelTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(IncidentState).Assembly).AddAssembly(typeof(AccountCorrelation).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    private static readonly AccountConfig Config = new()
    {
        Id = "model",
        Name = "model",
        Services = [new ServiceDefinition { Id = "api" }],
        Sla = new SlaContract
        {
            Response = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromMinutes(15), [Severity.Sev2] = TimeSpan.FromMinutes(30) },
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromHours(2) },
        },
        Itsm = new ItsmSettings
        {
            ServiceNow = new ServiceNowSettings { InstanceUrl = "https://acme.service-now.com/", UsernameRef = "U", PasswordRef = "P" },
            InboundSecretRef = "S",
        },
        OnCall = new OnCallConfig
        {
            Users = [new UserDefinition { Id = "ana", Contacts = [new ContactMethod { Id = "work", Kind = ChannelKind.Email, Address = "ana@example.com" }] }],
            Policies =
            [
                new EscalationPolicy
                {
                    Id = "standard",
                    AckTimeout = TimeSpan.FromMinutes(10),
                    Repeat = 1,
                    Levels =
                    [
                        new EscalationLevel { Targets = [new EscalationTarget(TargetKind.User, "ana")] },
                        new EscalationLevel { Delay = TimeSpan.FromMinutes(3), Targets = [new EscalationTarget(TargetKind.User, "ana")] },
                    ],
                },
            ],
            DefaultPolicy = "standard",
        },
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task An_incident_recovered_after_a_crash_equals_one_fed_only_its_durable_changes(int seed)
    {
        var random = new Random(seed);
        var journal = new ModelJournal();
        const string id = "inc-modelmodelmodel1";
        var log = new IncidentLog(journal, Serializer, id, minSnapshotBytes: 2048);
        await log.LoadAsync(CancellationToken.None);
        var now = T0;
        var groups = new List<(Task Durable, List<Action<IncidentState>> Ops)>();
        var pending = new List<Action<IncidentState>>();
        var fingerprints = new List<NormalizedAlert>();
        var alertOnly = true;
        var before = (log.Incident.Status, log.Incident.Severity);

        void Do(Action<IncidentState> op, bool onAlerts)
        {
            // What the grain does: apply, and remember it for the reference. A refused transition changes nothing in either.
            Apply(op, log.Incident);
            pending.Add(op);
            alertOnly &= onAlerts;
        }

        for (var step = 0; step < 400; step++)
        {
            now += TimeSpan.FromSeconds(random.Next(1, 90));
            var at = now;
            var incident = log.Incident;
            switch (random.Next(12))
            {
                case 0 or 1 or 2 when fingerprints.Count < 40 || !incident.Exists:
                    var alert = Alert($"node-{fingerprints.Count}", Enum.GetValues<Severity>()[random.Next(4)], at, random.Next(3) == 0 ? at + TimeSpan.FromMinutes(random.Next(1, 20)) : null);
                    fingerprints.Add(alert);
                    Do(s =>
                    {
                        if (!s.Exists) s.Open(id, new IncidentOrigin { AccountId = "model", Service = "api", GroupKey = "{alertname=\"Down\"}" }, alert, at, "new group");
                        s.Apply(alert, at, "group key");
                    }, onAlerts: incident.Exists);
                    break;
                case 3 or 4 when fingerprints.Count > 0:
                    var repeat = fingerprints[random.Next(fingerprints.Count)] with { ReceivedAt = at, EndsAt = random.Next(2) == 0 ? at + TimeSpan.FromMinutes(5) : null };
                    Do(s => s.Apply(repeat, at), onAlerts: true);
                    break;
                case 5 when fingerprints.Count > 0:
                    var resolve = fingerprints[random.Next(fingerprints.Count)];
                    Do(s => s.Apply(resolve with { Status = AlertStatus.Resolved, EndsAt = at, ReceivedAt = at }, at), onAlerts: true);
                    break;
                case 6 when incident.Exists:
                    var command = random.Next(4);
                    Do(s =>
                    {
                        if (command == 0) s.Acknowledge("ana", at);
                        else if (command == 1) s.AddNote("ana", $"note {at:HH:mm:ss}", at);
                        else if (command == 2) s.Resolve("ana", "done", at);
                        else s.Reopen("ben", "again", at);
                    }, onAlerts: false);
                    break;
                case 7 or 8 when incident.Exists:
                    Do(s =>
                    {
                        s.ExpireAlerts(at);
                        if (s.EscalationDue(at)) s.Escalate(Config, at);
                        s.DispatchDue(at, TimeSpan.FromMinutes(30));
                    }, onAlerts: false);
                    break;
                case 9 when incident.PendingNotifications.FirstOrDefault(p => p.DispatchedAt is not null) is { } sent:
                    var report = new DeliveryReport { Key = sent.Notification.Key, Delivered = random.Next(4) > 0, Attempts = [], Error = "refused" };
                    Do(s => s.RecordDelivery(report, at), onAlerts: false);
                    break;
                case 10 when incident.Tickets.Count > 0:
                    var outcome = random.Next(3);
                    Do(s =>
                    {
                        if (outcome == 0 && s.Tickets[0].TicketId is null) s.TicketCreated(TicketSystem.ServiceNow, "sys-1", "INC001", found: false, at);
                        else if (outcome == 1) s.TicketWritten(TicketSystem.ServiceNow, s.TicketEntrySeq);
                        else s.TicketFailed(TicketSystem.ServiceNow, "HTTP 503", retryable: true, retryAfter: null, at, TimeSpan.Zero);
                    }, onAlerts: false);
                    break;
                default:
                    break;
            }

            if (random.Next(3) == 0 && log.Incident.Exists)
            {
                // A change ends: extras are compared unless it only touched alerts and moved neither status nor severity.
                var after = (log.Incident.Status, log.Incident.Severity);
                var durable = log.Commit(extrasMayHaveChanged: !alertOnly || before != after);
                if (groups.Count == 0 || !ReferenceEquals(durable, groups[^1].Durable)) groups.Add((durable, pending));
                else groups[^1].Ops.AddRange(pending);
                pending = [];
                alertOnly = true;
                before = after;
            }
            if (random.Next(4) == 0) journal.Flush(random.Next(journal.Pending + 1));
        }
        journal.Flush(random.Next(journal.Pending + 1));
        journal.Crash();

        var durableOps = groups.TakeWhile(g => g.Durable.IsCompleted).SelectMany(g => g.Ops).ToList();
        Assert.True(durableOps.Count > 20, $"only {durableOps.Count} operations were durable; the test proves little");
        var reference = new IncidentState();
        foreach (var op in durableOps) Apply(op, reference);

        var recovered = new IncidentLog(journal, Serializer, id, minSnapshotBytes: 2048);
        await recovered.LoadAsync(CancellationToken.None);
        Assert.Equal(Canonical(reference), Canonical(recovered.Incident));
        var chronicle = await recovered.ReadChronicleAsync(0, int.MaxValue);
        Assert.Equal(reference.Recorded.Select(e => e.Hash), chronicle.Select(e => e.Hash));
        Assert.True(Chronicle.Verify(chronicle).Valid);
        var paged = new List<ChronicleEntry>();
        while (await recovered.ReadChronicleAsync(paged.Count > 0 ? paged[^1].Seq : 0, 7) is { Count: > 0 } page) paged.AddRange(page);
        Assert.Equal(chronicle.Select(e => e.Seq), paged.Select(e => e.Seq)); // read in pages of 7 entries, whatever the changes held
        Assert.True(journal.Snapshots > 0, "no snapshot was written; the test proves little");

        // Replaying what was already applied changes nothing, and a second load equals the first.
        var once = Canonical(recovered.Incident);
        recovered.Replay(journal.Entries(recovered.Stream));
        Assert.Equal(once, Canonical(recovered.Incident));
        var again = new IncidentLog(journal, Serializer, id, minSnapshotBytes: 2048);
        await again.LoadAsync(CancellationToken.None);
        Assert.Equal(once, Canonical(again.Incident));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void A_correlator_rebuilt_from_any_snapshot_and_the_changes_after_it_equals_the_state_it_had_then(int seed)
    {
        var random = new Random(seed);
        var state = new CorrelatorState();
        var now = T0;
        var incidents = 0;
        var known = new List<NormalizedAlert>();
        var open = new HashSet<string>(StringComparer.Ordinal);
        var silence = new Silence
        {
            Id = "sil-1", Matchers = [new LabelMatcher("alertname", MatchOperator.Equal, "Quiet")], StartsAt = T0, EndsAt = T0.AddHours(1),
            CreatedBy = "ana", CreatedAt = T0,
        };
        var flapping = new FlappingPolicy { Toggles = 3, Window = TimeSpan.FromMinutes(10), Quiet = TimeSpan.FromMinutes(3) };
        // What a crash would leave: snapshots and changes, each as bytes, and the state each commit stood for.
        var changes = new List<byte[]>();
        var snapshots = new Dictionary<int, byte[]> { [0] = Serializer.SerializeToArray(state) };
        var expected = new List<string> { Canonical(state) };

        for (var step = 0; step < 300; step++)
        {
            now += TimeSpan.FromSeconds(random.Next(1, 40));
            var batch = Enumerable.Range(0, random.Next(1, 6)).Select(_ =>
            {
                if (known.Count > 0 && random.Next(3) == 0)
                {
                    var again = known[random.Next(known.Count)];
                    return random.Next(3) == 0 ? again with { Status = AlertStatus.Resolved, EndsAt = now, ReceivedAt = now } : again with { ReceivedAt = now, StartsAt = now };
                }
                var name = new[] { "Down", "Errors", "Quiet", "Latency" }[random.Next(4)];
                var labels = new Dictionary<string, string> { ["alertname"] = name, ["node"] = $"node-{random.Next(8)}" };
                var alert = new NormalizedAlert
                {
                    Source = "model", Service = "api", Labels = labels, Severity = Enum.GetValues<Severity>()[random.Next(4)], Status = AlertStatus.Firing,
                    StartsAt = now, EndsAt = random.Next(4) == 0 ? now + TimeSpan.FromMinutes(2) : null, Fingerprint = AlertFingerprint.Of(labels), ReceivedAt = now,
                };
                known.Add(alert);
                return alert;
            }).ToList();
            var suppression = new SuppressionRules { Silences = now < silence.EndsAt ? [silence] : [] };
            var (routes, _) = state.Plan("model", "api", batch, ["alertname"], () => $"inc-{++incidents:D16}", replanning: false, suppression,
                window: TimeSpan.FromMinutes(3), flapping: flapping, symptomSeverity: Severity.Sev2, symptomWait: TimeSpan.FromSeconds(30));
            foreach (var route in routes.Where(r => r.Kind != RouteKind.Suppressed))
            {
                // The incidents answer: mostly taken, sometimes resolved already (then forgotten, as the grain does).
                var rejected = !open.Add(route.IncidentId) && random.Next(10) == 0;
                state.Settle(route, rejected ? AlertOutcome.Rejected : AlertOutcome.Applied);
                if (rejected)
                {
                    state.Forget(route.IncidentId);
                    open.Remove(route.IncidentId);
                }
            }
            if (random.Next(5) == 0) state.ReleaseDue(now);
            if (random.Next(2) == 0 && state.TakeChange() is { } change)
            {
                changes.Add(Serializer.SerializeToArray(change));
                expected.Add(Canonical(state));
                if (random.Next(6) == 0) snapshots[changes.Count] = Serializer.SerializeToArray(state);
            }
        }

        Assert.True(changes.Count > 50, "too few changes were taken; the test proves little");
        Assert.True(known.Count(a => state.Suppressed.ContainsKey(a.Fingerprint)) > 0 || state.Counters.Suppressed > 0, "nothing was ever held back");
        // Any commit may be the last durable one: from the latest snapshot before it, its changes rebuild exactly that state.
        for (var durable = 0; durable <= changes.Count; durable++)
        {
            var from = snapshots.Keys.Where(k => k <= durable).Max();
            var rebuilt = Serializer.Deserialize<CorrelatorState>(snapshots[from])!;
            foreach (var bytes in changes.Skip(from).Take(durable - from)) rebuilt.Apply(Serializer.Deserialize<CorrelatorChange>(bytes)!);
            Assert.Equal(expected[durable], Canonical(rebuilt));
        }
    }

    /// <summary>A correlator's state as comparable text: every map sorted by key.</summary>
    private static string Canonical(CorrelatorState state) => JsonSerializer.Serialize(new
    {
        Firing = Sorted(state.FiringAlerts),
        Groups = Sorted(state.OpenGroups),
        Lives = Sorted(state.Groups),
        Counted = Sorted(state.CountedIn),
        Suppressed = Sorted(state.Suppressed),
        Toggles = Sorted(state.Toggles),
        Resolves = Sorted(state.RecentResolves),
        Placed = state.Placed.ByIncident.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(),
        state.Counters,
    });

    private static List<KeyValuePair<string, T>> Sorted<T>(TrackedMap<T> map) => map.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();

    private static void Apply(Action<IncidentState> op, IncidentState state)
    {
        try
        {
            op(state);
        }
        catch (IncidentTransitionException)
        {
            // Refused in both the grain's state and the reference, and changing neither.
        }
    }

    private static NormalizedAlert Alert(string node, Severity severity, DateTimeOffset at, DateTimeOffset? endsAt)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = "Down", ["node"] = node };
        return new NormalizedAlert
        {
            Source = "model", Service = "api", Labels = labels, Severity = severity, Status = AlertStatus.Firing,
            StartsAt = at, EndsAt = endsAt, Fingerprint = AlertFingerprint.Of(labels), ReceivedAt = at,
        };
    }

    /// <summary>The incident as comparable text: every field it keeps, its alerts in the order they joined.</summary>
    private static string Canonical(IncidentState state) => JsonSerializer.Serialize(new
    {
        Identity = state.Exists ? state.Identity : null,
        state.Progress,
        Alerts = state.AlertsFrom(0).ToList(),
        state.Escalation,
        state.PendingNotifications,
        state.Notifications,
        state.Clocks,
        state.Tickets,
        Summary = state.Exists ? state.Summarize() : null,
        state.NextWake,
    });
}
