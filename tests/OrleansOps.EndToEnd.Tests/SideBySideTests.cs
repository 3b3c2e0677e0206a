namespace OrleansOps.EndToEnd.Tests;

public sealed class SideBySideTests
{
    [Fact]
    public async Task Two_servers_run_side_by_side_on_their_own_ports_and_data()
    {
        await using var first = await ServerProcess.StartAsync();
        await using var second = await ServerProcess.StartAsync();
        try
        {
            Assert.NotEqual(first.SiloPort, second.SiloPort);
            var (status, receipt) = await Api.PostAsync(first.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"OnlyHere"}}]""", bearer: "demo-key-healthnet");
            Assert.Equal(200, status);
            var id = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();

            Assert.Equal(200, (await Api.SendAsync(first.Admin, HttpMethod.Get, $"/api/v1/incidents/{id}")).Status);
            Assert.Equal(404, (await Api.SendAsync(second.Admin, HttpMethod.Get, $"/api/v1/incidents/{id}")).Status);
            Assert.DoesNotContain("demo-key-healthnet", first.Output + second.Output);
        }
        finally
        {
            await first.KillAsync();
            await second.KillAsync();
            foreach (var path in new[] { first.DataPath, second.DataPath })
                try { Directory.Delete(path, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }
}
