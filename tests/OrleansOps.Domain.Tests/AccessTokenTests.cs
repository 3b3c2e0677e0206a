using System.Text.Json;

namespace OrleansOps.Domain.Tests;

public sealed class AccessTokenTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private static (AccessToken Token, string Text) NewAccountToken(DateTimeOffset? expiresAt = null)
    {
        var id = Ids.NewTokenId();
        var (text, hash) = TokenText.New(id);
        var (token, errors) = TokenRequest.Create("acme-noc", "account", "acme", expiresAt, id, hash, "configured", Now);
        Assert.Empty(errors);
        return (token!, text);
    }

    private static TokenGrant? Admit(AccessToken token, string text, DateTimeOffset at)
    {
        Assert.True(TokenText.TryRead(text, out var id, out var hash));
        Assert.Equal(token.Id, id);
        return token.Admit(hash, at);
    }

    [Fact]
    public void A_token_admits_its_own_secret_only_and_grants_its_account()
    {
        var (token, text) = NewAccountToken();
        var grant = Admit(token, text, Now);
        Assert.Equal(new TokenGrant(token.Id, "acme-noc", TokenScope.Account, "acme"), grant);
        Assert.True(grant!.Covers("acme"));
        Assert.False(grant.Covers("globex"));
        Assert.False(grant.Covers(null));
        Assert.Null(Admit(token, text[..^1] + (text[^1] == '0' ? '1' : '0'), Now));
        Assert.DoesNotContain(text[(text.IndexOf('.') + 1)..], JsonSerializer.Serialize(token)); // only the hash is kept
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("demo-key-healthnet")]
    [InlineData("tok-abc.secret")]                  // id too short
    [InlineData("tok-ABCDEFGHIJKLMNOP.secret")]     // not lower-case base-32
    [InlineData("tok-abcdefghijklmnop.")]           // no secret
    [InlineData("tok-abcdefghijklmnop")]            // no dot
    public void Text_that_is_not_shaped_like_a_token_is_not_read(string? text) =>
        Assert.False(TokenText.TryRead(text, out _, out _));

    [Fact]
    public void Rotation_keeps_the_old_secret_for_the_overlap_and_no_longer()
    {
        var (token, first) = NewAccountToken();
        var (second, secondHash) = TokenText.New(token.Id);
        var rotated = token.Rotate(secondHash, TimeSpan.FromHours(1), Now);
        Assert.NotNull(Admit(rotated, first, Now.AddMinutes(59)));
        Assert.NotNull(Admit(rotated, second, Now.AddMinutes(59)));
        Assert.Null(Admit(rotated, first, Now.AddHours(1)));
        Assert.NotNull(Admit(rotated, second, Now.AddDays(400)));

        // A second rotation never extends a secret already retiring, and drops the ones retired.
        var (third, thirdHash) = TokenText.New(token.Id);
        var again = rotated.Rotate(thirdHash, TimeSpan.FromHours(24), Now.AddMinutes(30));
        Assert.Null(Admit(again, first, Now.AddMinutes(61)));
        Assert.NotNull(Admit(again, second, Now.AddHours(24)));
        Assert.Null(Admit(again, second, Now.AddMinutes(30).AddHours(24)));
        Assert.NotNull(Admit(again, third, Now.AddDays(2)));
        Assert.Equal(3, again.Secrets.Count);
        var (_, fourthHash) = TokenText.New(token.Id);
        Assert.Equal(3, again.Rotate(fourthHash, TimeSpan.FromHours(1), Now.AddHours(2)).Secrets.Count); // the first, retired by then, is gone
    }

    [Fact]
    public void A_rotation_without_overlap_stops_every_earlier_secret_at_once()
    {
        var (token, first) = NewAccountToken();
        var (second, hash) = TokenText.New(token.Id);
        var rotated = token.Rotate(hash, TimeSpan.Zero, Now);
        Assert.Null(Admit(rotated, first, Now));
        Assert.NotNull(Admit(rotated, second, Now));
        Assert.Single(rotated.Secrets);
    }

    [Fact]
    public void Revoked_and_expired_tokens_admit_nothing()
    {
        var (token, text) = NewAccountToken(expiresAt: Now.AddDays(30));
        Assert.Equal(TokenStatus.Active, token.Status(Now));
        Assert.NotNull(Admit(token, text, Now.AddDays(29)));
        Assert.Null(Admit(token, text, Now.AddDays(30)));
        Assert.Equal(TokenStatus.Expired, token.Status(Now.AddDays(30)));

        var revoked = token.Revoke("configured", Now.AddMinutes(1));
        Assert.Null(Admit(revoked, text, Now.AddMinutes(1)));
        Assert.Equal(TokenStatus.Revoked, revoked.Status(Now.AddMinutes(1)));
        Assert.Same(revoked, revoked.Revoke("someone else", Now.AddMinutes(2))); // the first revocation is the record
    }

    [Theory]
    [InlineData("""{"scope":"admin"}""", "name:")]
    [InlineData("""{"name":"x","scope":"root"}""", "scope:")]
    [InlineData("""{"name":"x","scope":"account"}""", "account:")]
    [InlineData("""{"name":"x","scope":"account","account":"Not_An_Id"}""", "account:")]
    [InlineData("""{"name":"x","scope":"admin","account":"acme"}""", "account:")]
    [InlineData("""{"name":"x","scope":"admin","expiresAt":"2026-11-27T08:59:59Z"}""", "expiresAt:")]
    [InlineData("""{"name":"x","scope":"admin","expiresAt":"tomorrow"}""", "expiresAt:")]
    [InlineData("""{"name":"x\u0007","scope":"admin"}""", "name:")]
    [InlineData("""{"name":5,"scope":"admin"}""", "name:")]
    [InlineData("""[]""", "$:")]
    public void A_bad_token_request_says_which_field_is_wrong(string json, string field)
    {
        using var body = JsonDocument.Parse(json);
        var (token, errors) = TokenRequest.Read(body.RootElement, Ids.NewTokenId(), new string('a', 64), "configured", Now);
        Assert.Null(token);
        Assert.Contains(errors, e => e.StartsWith(field, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, 24 * 60)]
    [InlineData("0s", 0)]
    [InlineData("0", 0)]
    [InlineData("90m", 90)]
    [InlineData("30d", 30 * 24 * 60)]
    public void Overlaps_read_as_durations(string? text, int minutes)
    {
        var (overlap, error) = TokenRequest.Overlap(text);
        Assert.Null(error);
        Assert.Equal(TimeSpan.FromMinutes(minutes), overlap);
    }

    [Theory]
    [InlineData("31d")]
    [InlineData("soon")]
    [InlineData("-1h")]
    public void Overlaps_beyond_thirty_days_or_unreadable_are_refused(string text) =>
        Assert.NotNull(TokenRequest.Overlap(text).Error);
}
