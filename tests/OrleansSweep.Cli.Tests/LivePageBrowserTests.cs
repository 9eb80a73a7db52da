using System.Diagnostics;
using Microsoft.Playwright;
using OrleansSweep.Cli;
using OrleansSweep.Hosting;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The live sweep page of an embedded `run`, in Debian's headless Chromium (Playwright): it loads, a cell of the grid
/// changes state while the sweep trains, the figures decode, the files download, and the browser reports no error while
/// the run serves the page.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class LivePageBrowserTests : IDisposable
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-live");

    public void Dispose() => _work.Dispose();

    private static string ChromiumPath => Environment.GetEnvironmentVariable("ORLEANS_SWEEP_CHROMIUM") ?? "/usr/bin/chromium";

    [Fact]
    public async Task The_live_page_follows_a_running_sweep_in_a_headless_browser()
    {
        Assert.True(File.Exists(ChromiumPath), $"Chromium not found at {ChromiumPath}: install Debian's 'chromium' package (as .ci/run does).");
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 1024, testCount: 100); // ~20 s of training: long enough to watch
        string spec = _work.Combine("live.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson("live", data, batchSizes: [16, 32], learningRates: ["2^-8", "2^4"], epochs: 3, seeds: [0, 1]));
        int port = LoopbackPorts.Free();
        string url = EmbeddedHost.PageUrl(port, "live");

        var output = new StringWriter();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var run = Task.Run(() => CliApp.InvokeAsync(["run", spec, "--study", _work.Combine("study"), "--threads", "1", "--plain", "--page-port", port.ToString()],
            TestConsole.Create(output), limit.Token));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var problems = new List<string>();
        // What the browser says while the run serves the page; once the run has ended its polls fail, as they should.
        void Problem(string text) { if (!run.IsCompleted) lock (problems) problems.Add(text); }
        page.Console += (_, message) => { if (message.Type is "error" or "warning") Problem($"console {message.Type}: {message.Text}"); };
        page.PageError += (_, error) => Problem($"page error: {error}");
        page.RequestFailed += (_, request) => Problem($"request failed: {request.Url}");
        page.Request += (_, request) => { if (!request.Url.StartsWith($"http://127.0.0.1:{port}/", StringComparison.Ordinal)) Problem($"external request: {request.Url}"); };

        // The page is up once the embedded silo is.
        var clock = Stopwatch.StartNew();
        using (var http = new HttpClient())
            while (true)
            {
                Assert.False(run.IsCompleted, $"the run ended before its page answered: {output}");
                try { if ((await http.GetAsync(url)).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the live page did not answer within 2 minutes");
                await Task.Delay(100);
            }
        var response = await page.GotoAsync(url);
        Assert.True(response!.Ok);
        Assert.Equal("live · OrleansSweep", await page.TitleAsync());

        // The first look at the grid, then the same cells until one of them has changed state (pending -> running -> done).
        var cells = page.Locator("table.grid td");
        await cells.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        Assert.Equal(4, await cells.CountAsync());
        async Task<string[]> States() => [.. await Task.WhenAll((await cells.AllAsync()).Select(c => c.GetAttributeAsync("data-state")).ToArray()).ContinueWith(t => t.Result.Select(s => s ?? ""))];
        string[] first = await States();
        Assert.True(first.Any(s => s is "pending" or "running"), $"the sweep had finished when the page first drew it: {string.Join(", ", first)}; {output}");
        string[] now = first;
        while (now.SequenceEqual(first))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"no cell changed state: {string.Join(", ", first)}");
            await Task.Delay(250);
            now = await States();
        }

        // Every cell says what it is: a percentage, or a word; never "NaN" or "undefined".
        foreach (string text in await cells.AllInnerTextsAsync())
            Assert.Matches(@"^(\d+\.\d%|diverged|failed|running|cancelled|·)", text);

        // The figures arrive with the first results and decode.
        await page.WaitForFunctionAsync("() => document.images.length > 0 && Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        var widths = await page.EvaluateAsync<double[]>("() => Array.from(document.images).map(i => i.getBoundingClientRect().width)");
        Assert.All(widths, w => Assert.True(w > 200, $"a figure is laid out {w}px wide"));
        Assert.All(await page.EvaluateAsync<string[]>("() => Array.from(document.images).map(i => i.alt)"), alt => Assert.False(string.IsNullOrWhiteSpace(alt)));
        string csv = await page.EvaluateAsync<string>("async () => (await fetch(document.querySelector('#files a').href)).text()");
        Assert.StartsWith("trial_id,bn_mode,batch_size,", csv);

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Path.GetTempPath(), "orleans-sweep-live-page.png"), FullPage = true });
        bool servedThroughout = !run.IsCompleted;
        await page.CloseAsync();
        Assert.Equal(ExitCodes.Ok, await run);
        Assert.Contains($"Live page: {url}", output.ToString().Replace("\n", ""));
        Assert.True(servedThroughout, "the run ended before the page was checked");
        lock (problems) Assert.Empty(problems);
    }
}
