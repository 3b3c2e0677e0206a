using OrleansOps.Abstractions;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class ActionLinkTests
{
    private const string Secret = "links-secret-of-the-server";

    [Fact]
    public void A_token_carries_its_claim_to_the_server_that_made_it_and_to_no_other()
    {
        var claim = new ActionLinks.Claim("inc-7f3a", "ana", ActionLinks.Acknowledge, new DateTimeOffset(2026, 12, 9, 3, 0, 0, TimeSpan.Zero), "n0nce");
        var token = ActionLinks.Create(Secret, claim);

        Assert.Equal(claim, ActionLinks.Read(Secret, token));
        Assert.DoesNotContain('/', token);
        Assert.Null(ActionLinks.Read("another-server", token));
        // The claim changed (another person), with the MAC of the first: refused.
        var forged = ActionLinks.Create(Secret, claim with { UserId = "mallory" }).Split('.')[0] + "." + token.Split('.')[1];
        Assert.Null(ActionLinks.Read(Secret, forged));
        Assert.Null(ActionLinks.Read(Secret, "not-a-token"));
        Assert.Null(ActionLinks.Read(Secret, token + "x"));
    }

    [Fact]
    public void An_email_page_to_a_user_carries_its_links_while_open_and_a_stakeholders_carries_none()
    {
        var page = Notifications.For(ChannelKind.Email, "ana@example.com") with { Key = "inc-7f3a/g0.r0.l0/user:ana/work", Recipient = "ana" };
        var links = ActionLinks.For(page, Secret, "https://ops.example.com/");

        Assert.Equal(["Acknowledge", "Resolve"], links.Select(l => l.Label));
        var token = links[0].Url["https://ops.example.com/act/".Length..];
        Assert.Equal(("inc-7f3a", "ana", ActionLinks.Acknowledge, page.CreatedAt + ActionLinks.Lifetime),
            ActionLinks.Read(Secret, token) is { } claim ? (claim.IncidentId, claim.UserId, claim.Action, claim.Expires) : default);
        Assert.Equal(links, ActionLinks.For(page, Secret, "https://ops.example.com/")); // sent again: the same links
        Assert.Contains($"Acknowledge: {links[0].Url}", EmailChannel.PlainBody(page, links));
        Assert.Empty(ActionLinks.For(page with { Status = IncidentStatus.Resolved }, Secret, "https://ops.example.com"));
        Assert.Empty(ActionLinks.For(page with { Key = "inc-7f3a/stakeholders/cfo", Recipient = "cfo" }, Secret, "https://ops.example.com"));
    }
}
