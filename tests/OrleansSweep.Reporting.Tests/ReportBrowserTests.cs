using Microsoft.Playwright;
using OrleansSweep.Study;

namespace OrleansSweep.Reporting.Tests;

/// <summary>
/// Opens report.html in a real headless Chromium (Debian's <c>chromium</c>, driven by Playwright; .ci/run installs it):
/// the page loads from the file alone, every figure decodes and is laid out, and the browser reports no errors.
/// </summary>
public class ReportBrowserTests
{
    /// <summary>Where the browser is; ORLEANS_SWEEP_CHROMIUM overrides Debian's path.</summary>
    private static string ChromiumPath => Environment.GetEnvironmentVariable("ORLEANS_SWEEP_CHROMIUM") ?? "/usr/bin/chromium";

    [Fact]
    public async Task The_report_loads_in_a_headless_browser_with_every_figure_rendered_and_no_console_errors()
    {
        Assert.True(File.Exists(ChromiumPath),
            $"Chromium not found at {ChromiumPath}: install Debian's 'chromium' package (as .ci/run does) or set ORLEANS_SWEEP_CHROMIUM.");
        string directory = Path.Combine(Path.GetTempPath(), $"study-browser-{Guid.NewGuid():N}");
        try
        {
            StudyReportTests.WriteSampleStudy(directory);
            string html = StudyReport.Write(directory, StudyFiles.Read(directory));

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                // Running as root (CI) needs --no-sandbox; the page is our own local file.
                Args = ["--no-sandbox"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
            var problems = new List<string>();
            page.Console += (_, message) => { if (message.Type is "error" or "warning") problems.Add($"console {message.Type}: {message.Text}"); };
            page.PageError += (_, error) => problems.Add($"page error: {error}");
            page.RequestFailed += (_, request) => problems.Add($"request failed: {request.Url}");
            // Self-contained means nothing but the file itself (and its data: URIs) is fetched.
            page.Request += (_, request) =>
            {
                if (!request.Url.StartsWith("data:", StringComparison.Ordinal) && request.Url != new Uri(html).AbsoluteUri)
                    problems.Add($"external request: {request.Url}");
            };

            var response = await page.GotoAsync(new Uri(html).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            Assert.NotNull(response);
            Assert.True(response.Ok, $"loading {html}: status {response.Status}");

            var images = await page.EvaluateAsync<ImageState[]>(
                "() => Array.from(document.images).map(i => ({ src: i.currentSrc.slice(0, 30), alt: i.alt, complete: i.complete, " +
                "naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, shownWidth: i.getBoundingClientRect().width }))");
            Assert.Equal(5, images.Length);
            Assert.All(images, image =>
            {
                Assert.True(image.Complete && image.NaturalWidth >= 400 && image.NaturalHeight >= 300,
                    $"figure '{image.Alt}' did not decode ({image.NaturalWidth}x{image.NaturalHeight})");
                Assert.True(image.ShownWidth > 100, $"figure '{image.Alt}' is laid out {image.ShownWidth}px wide");
                Assert.False(string.IsNullOrWhiteSpace(image.Alt), "every figure has alt text");
            });
            Assert.Equal("81.3", await page.Locator("td[data-batch='16'][data-lr='0.00390625']").First.InnerTextAsync());

            // Kept for a person to look at (the closing note says what it showed).
            string screenshot = Path.Combine(Path.GetTempPath(), "orleans-sweep-report-screenshot.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            Assert.True(new FileInfo(screenshot).Length > 10_000);
            Assert.Empty(problems);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    /// <summary>What the page says about one image (Playwright fills it by property name).</summary>
    public sealed class ImageState
    {
        public string Src { get; set; } = "";
        public string Alt { get; set; } = "";
        public bool Complete { get; set; }
        public int NaturalWidth { get; set; }
        public int NaturalHeight { get; set; }
        public double ShownWidth { get; set; }
    }
}
