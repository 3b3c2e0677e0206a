namespace OrleansOps.Domain.Tests;

public sealed class HeartbeatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);
    private static readonly HeartbeatDefinition Backup = new() { Name = "nightly-backup", Interval = TimeSpan.FromHours(24), Grace = TimeSpan.FromHours(1) };
    private static readonly HeartbeatDefinition Watchdog = new() { Name = "prometheus", Interval = TimeSpan.FromMinutes(1), Grace = TimeSpan.FromMinutes(4), Alert = "Watchdog" };

    [Fact]
    public void A_heartbeat_is_due_to_miss_an_interval_and_a_grace_after_its_last_ping_or_after_it_was_configured()
    {
        var statuses = Heartbeats.Reconcile(new Dictionary<string, HeartbeatStatus>(), [Backup, Watchdog], T0);
        statuses["prometheus"] = statuses["prometheus"] with { LastPing = T0 + TimeSpan.FromMinutes(3) };

        Assert.Equal(T0 + TimeSpan.FromMinutes(8), Heartbeats.NextDeadline([Backup, Watchdog], statuses));
        Assert.Empty(Heartbeats.DueToMiss([Backup, Watchdog], statuses, T0 + TimeSpan.FromMinutes(8) - TimeSpan.FromTicks(1)));
        Assert.Equal(["prometheus"], Heartbeats.DueToMiss([Backup, Watchdog], statuses, T0 + TimeSpan.FromMinutes(8)).Select(h => h.Name));
        Assert.Equal(["nightly-backup", "prometheus"], Heartbeats.DueToMiss([Backup, Watchdog], statuses, T0 + TimeSpan.FromHours(25)).Select(h => h.Name));

        // A missed heartbeat is not due again, and has no deadline until its next ping.
        statuses["prometheus"] = statuses["prometheus"] with { MissedAt = T0 + TimeSpan.FromMinutes(8) };
        Assert.Equal(T0 + TimeSpan.FromHours(25), Heartbeats.NextDeadline([Backup, Watchdog], statuses));
        Assert.Equal(["nightly-backup"], Heartbeats.DueToMiss([Backup, Watchdog], statuses, T0 + TimeSpan.FromHours(25)).Select(h => h.Name));
    }

    [Fact]
    public void Reconciling_keeps_what_a_heartbeat_knew_starts_new_ones_now_and_drops_the_ones_gone()
    {
        var before = new Dictionary<string, HeartbeatStatus> { ["prometheus"] = new() { Since = T0, LastPing = T0 + TimeSpan.FromMinutes(1), Pings = 7 }, ["old"] = new() { Since = T0 } };
        var after = Heartbeats.Reconcile(before, [Backup, Watchdog], T0 + TimeSpan.FromHours(1));

        Assert.Equal(["nightly-backup", "prometheus"], after.Keys.Order());
        Assert.Equal(7, after["prometheus"].Pings);
        Assert.Equal((T0 + TimeSpan.FromHours(1), (DateTimeOffset?)null), (after["nightly-backup"].Since, after["nightly-backup"].LastPing));
    }

    [Fact]
    public void The_missed_alert_is_one_fingerprint_per_heartbeat_that_its_resolve_shares()
    {
        var config = new AccountConfig { Id = "acme", Name = "Acme", Services = [new ServiceDefinition { Id = "backups" }], Heartbeats = [Backup with { Service = "backups" }] };
        var status = new HeartbeatStatus { Since = T0, LastPing = T0 + TimeSpan.FromMinutes(5) };
        var firing = Heartbeats.Alert(config.Heartbeats[0], status, config, T0 + TimeSpan.FromHours(26));
        var resolved = Heartbeats.Alert(config.Heartbeats[0], status with { MissedAt = T0 + TimeSpan.FromHours(25) + TimeSpan.FromMinutes(5) }, config,
            T0 + TimeSpan.FromHours(27), resolvedAt: T0 + TimeSpan.FromHours(27));

        Assert.Equal(resolved.Fingerprint, firing.Fingerprint);
        Assert.Equal((AlertStatus.Firing, AlertStatus.Resolved), (firing.Status, resolved.Status));
        Assert.Equal(("backups", true, Severity.Sev2), (firing.Service, firing.ServiceDeclared, firing.Severity));
        Assert.Equal(T0 + TimeSpan.FromHours(25) + TimeSpan.FromMinutes(5), firing.StartsAt); // when its allowance ran out
        Assert.Equal("HeartbeatMissed", firing.Name);
        Assert.Null(firing.NodeName);
    }

    [Fact]
    public void Heartbeats_are_validated_with_the_account()
    {
        AccountConfig With(params HeartbeatDefinition[] heartbeats) => new() { Id = "acme", Name = "Acme", Heartbeats = heartbeats };

        Assert.Empty(With(Backup, Watchdog).Validate());
        var errors = With(
            Backup with { Name = "Nightly Backup" },
            Backup with { Interval = TimeSpan.FromSeconds(5) },
            Watchdog with { Grace = TimeSpan.FromMinutes(-1) },
            Watchdog with { Name = "second-watchdog" },
            Backup with { Service = " " }).Validate();

        Assert.Contains(errors, e => e.StartsWith("heartbeats[0].name: 'Nightly Backup' must be", StringComparison.Ordinal));
        Assert.Contains("heartbeats[1].interval: must be between 10s and 31d", errors);
        Assert.Contains("heartbeats[4].name: 'nightly-backup' is used twice", errors);
        Assert.Contains("heartbeats[2].grace: must be between 0 and 31d", errors);
        Assert.Contains("heartbeats[3].alert: 'Watchdog' already pings another heartbeat", errors);
        Assert.Contains("heartbeats[4].service: must not be empty when given", errors);
    }
}
