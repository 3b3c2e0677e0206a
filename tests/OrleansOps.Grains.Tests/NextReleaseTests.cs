namespace OrleansOps.Grains.Tests;

/// <summary>
/// The account's next release looks again only at the services touched since it was last asked; whatever the order of
/// holds, releases, rounds and changes to every service, it must equal the first suppression end over all services.
/// </summary>
public sealed class NextReleaseTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_next_release_is_the_first_suppression_end_of_any_service(int seed)
    {
        var random = new Random(seed);
        var account = new AccountCorrelation();
        var now = T0;
        var held = 0;
        for (var step = 0; step < 400; step++)
        {
            now += TimeSpan.FromSeconds(random.Next(1, 20));
            var service = $"svc-{random.Next(12)}";
            // A silence per service and step, ending at its own time: alerts it matches are held until then.
            var silence = new Silence
            {
                Id = $"sil-{step}", Matchers = [new LabelMatcher("alertname", MatchOperator.Equal, "Quiet")], StartsAt = now,
                EndsAt = now + TimeSpan.FromSeconds(random.Next(30, 600)), CreatedBy = "ana", CreatedAt = now,
            };
            var labels = new Dictionary<string, string> { ["alertname"] = random.Next(3) == 0 ? "Down" : "Quiet", ["node"] = $"node-{random.Next(40)}" };
            var alert = new NormalizedAlert
            {
                Source = "model", Service = service, Labels = labels, Severity = Severity.Sev2, Status = AlertStatus.Firing,
                StartsAt = now, Fingerprint = AlertFingerprint.Of(labels), ReceivedAt = now,
            };
            var (routes, _) = account.Service(service).Plan("model", service, [alert], ["alertname"], () => $"inc-{step:D16}", replanning: false,
                new SuppressionRules { Silences = [silence] }, window: TimeSpan.Zero, flapping: null, symptomSeverity: Severity.Sev2, symptomWait: TimeSpan.Zero);
            held += routes.Count(r => r.Kind == RouteKind.Suppressed);
            foreach (var route in routes.Where(r => r.Kind != RouteKind.Suppressed)) account.Service(service).Settle(route, AlertOutcome.Applied);

            switch (random.Next(6))
            {
                case 0:
                    account.Service($"svc-{random.Next(12)}").ReleaseDue(now);
                    break;
                case 1:
                    foreach (var each in account.TouchAll()) each.ReleaseDue(now);
                    break;
                case 2:
                    account.TakeTouched();
                    break;
            }
            var first = account.Services.Values.Select(s => s.NextSuppressionEnd).Where(e => e is not null).Min();
            Assert.Equal(first, account.NextRelease());
            if (random.Next(2) == 0) account.TakeTouched();
        }
        Assert.True(held > 50, $"only {held} alerts were ever held");
    }
}
