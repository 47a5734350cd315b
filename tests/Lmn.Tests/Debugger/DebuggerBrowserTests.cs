using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Lmn.Tests.Debugger;

/// <summary>
/// `lmn debug` end to end: the real command as a child process (Kestrel on 127.0.0.1), driven through
/// its page in Debian's Chromium (installed by scripts/setup) by Playwright, with no browser download.
/// Screenshots go to the test output's artifacts/ folder (and to docs/img when LMN_DOCS_SCREENSHOTS=1).
/// </summary>
public sealed class DebuggerBrowserTests
{
    private static string Example(string name) => Path.Combine(TestUtil.RepoRoot, "examples", name);

    public static string ArtifactDir
    {
        get
        {
            string d = Path.Combine(AppContext.BaseDirectory, "artifacts");
            Directory.CreateDirectory(d);
            return d;
        }
    }

    /// <summary>The `lmn debug` process and the address it printed.</summary>
    private sealed class DebugProcess : IDisposable
    {
        private readonly Process _proc;
        public string Url { get; }

        public DebugProcess(params string[] args)
        {
            // The CLI as `./lmn` runs it: the Release build the test build made.
            string dll = Path.Combine(TestUtil.RepoRoot, "src/Lmn.Cli/bin/Release/net10.0/Lmn.Cli.dll");
            if (!File.Exists(dll)) dll = Path.Combine(AppContext.BaseDirectory, "Lmn.Cli.dll");
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestUtil.RepoRoot };
            psi.ArgumentList.Add(dll);
            psi.ArgumentList.Add("debug");
            foreach (string a in args) psi.ArgumentList.Add(a);
            _proc = Process.Start(psi)!;
            var line = _proc.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result == null)
                throw new InvalidOperationException("lmn debug printed no address: " + _proc.StandardError.ReadToEnd());
            var m = Regex.Match(line.Result, @"http://127\.0\.0\.1:\d+/");
            Assert.True(m.Success, line.Result);
            Url = m.Value;
        }

        public void Dispose()
        {
            try { _proc.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            _proc.WaitForExit(10_000);
            _proc.Dispose();
        }
    }

    private static async Task<(IPlaywright, IBrowser)> Browser()
    {
        string chromium = Environment.GetEnvironmentVariable("LMN_CHROMIUM") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: run scripts/setup (apt-get install chromium)");
        // Generous waits: CI machines are shared, and a step waits for Graphviz.
        Assertions.SetDefaultExpectTimeout(30_000);
        var pw = await Playwright.CreateAsync();
        var browser = await pw.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        return (pw, browser);
    }

    private static async Task Shot(IPage page, string name)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactDir, name) });
        if (Environment.GetEnvironmentVariable("LMN_DOCS_SCREENSHOTS") == "1")
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(TestUtil.RepoRoot, "docs/img", name) });
    }

    private static async Task<long> Number(IPage page, string selector) =>
        long.Parse((await page.Locator(selector).InnerTextAsync()).Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Two_sites_step_pause_answer_in_the_page_and_run_to_the_end()
    {
        using var dbg = new DebugProcess("examples/amb_batch.lmn", "--oracle", "script:examples/answers.json", "--no-cache");
        var (pw, browser) = await Browser();
        using var _ = pw;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1500, Height = 950 }, AcceptDownloads = true });
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(dbg.Url);
        var steps = page.Locator("#steps");
        await Assertions.Expect(steps).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("#canvas svg")).ToBeVisibleAsync();

        // Step once with the button, once with its key.
        await page.ClickAsync("#step");
        await Assertions.Expect(steps).ToHaveTextAsync("1");
        await page.Keyboard.PressAsync("s");
        await Assertions.Expect(steps).ToHaveTextAsync("2");

        // Click a node: its kind, address and ports.
        await page.Locator("#canvas g.node.kCON").First.ClickAsync();
        await Assertions.Expect(page.Locator("#inspector")).ToContainTextAsync("CON @");
        await Assertions.Expect(page.Locator("#inspector")).ToContainTextAsync("principal");

        // Run to the first pause: both sites are ready, with their requests.
        await page.ClickAsync("#pause");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("paused: 2 site(s) ready");
        await Assertions.Expect(page.Locator(".site[data-state=ready]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#source mark")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#canvas g.node.kAMB")).ToHaveCountAsync(2);
        var lov = page.Locator(".site", new PageLocatorOptions { HasText = "∿lov[joy, pai]" });
        await lov.Locator("summary").ClickAsync();
        string request = await lov.Locator("pre.request").InnerTextAsync();
        using (var doc = JsonDocument.Parse(request))
        {
            var r = doc.RootElement.GetProperty("oracle_request");
            Assert.Equal("∿lov[joy, pai]", r.GetProperty("expression").GetString());
            Assert.Equal("choice", r.GetProperty("kind").GetString());
            Assert.EndsWith("amb_batch.lmn:3:5", r.GetProperty("source_location").GetString());
        }
        await Shot(page, "debugger-paused.png");

        // A wrong answer is refused in the page; the right one is taken.
        await lov.Locator("input.answer").FillAsync("run");
        await lov.Locator("button.answer-btn").ClickAsync();
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("not a candidate");
        await lov.Locator("input.answer").FillAsync("joy");
        await lov.Locator("button.answer-btn").ClickAsync();
        await Assertions.Expect(lov).ToHaveAttributeAsync("data-state", "answered");
        await Assertions.Expect(lov).ToContainTextAsync("human (debugger)");

        // The configured oracle (the script) answers the other site when the page asks it.
        var mov = page.Locator(".site", new PageLocatorOptions { HasText = "∿mov[run, sit]" });
        await mov.Locator("button.ask-btn").ClickAsync();
        await Assertions.Expect(mov).ToHaveAttributeAsync("data-state", "answered");

        // Run to the end.
        await page.ClickAsync("#end");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("finished");
        var expected = File.ReadAllLines(Example("amb_batch.expected"));
        await Assertions.Expect(page.Locator("#result")).ToHaveTextAsync(expected[0]);
        await Assertions.Expect(mov).ToContainTextAsync("oracle script");
        await Assertions.Expect(mov).ToContainTextAsync("confidence");

        // The counters: the interactions `lmn run -s` counts (the .expected file), split by rule.
        long itrs = await Number(page, "#itrs");
        Assert.Equal(expected.Single(l => l.StartsWith("- ITRS:", StringComparison.Ordinal)), $"- ITRS: {itrs}");
        long sum = 0;
        foreach (string rule in new[] { "ANNI", "COMM", "ERAS", "VOID", "CALL", "OPER", "SWIT" }) sum += await Number(page, "#rule-" + rule);
        Assert.Equal(itrs, sum);
        Assert.True(await Number(page, "#rule-LINK") > 0);
        Assert.True(await Number(page, "#rule-ANNI") > 0);

        // The transcript, shown and downloaded.
        await Assertions.Expect(page.Locator("#transcript")).ToContainTextAsync("\"substitution\":\"joy\"");
        await Assertions.Expect(page.Locator("#transcript")).ToContainTextAsync("\"substitution\":\"run\"");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download"));
        string saved = Path.Combine(ArtifactDir, "transcript.jsonl");
        await download.SaveAsAsync(saved);
        var lines = File.ReadAllLines(saved);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
        await Shot(page, "debugger-finished.png");
    }

    [Fact]
    public async Task Going_back_N_steps_restores_the_same_picture()
    {
        using var dbg = new DebugProcess("examples/sum.lmn");
        var (pw, browser) = await Browser();
        using var _ = pw;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(dbg.Url);
        var steps = page.Locator("#steps");
        await Assertions.Expect(steps).ToHaveTextAsync("0");
        await page.FillAsync("#nsteps", "40");
        await page.ClickAsync("#stepN");
        await Assertions.Expect(steps).ToHaveTextAsync("40");
        string svg40 = await page.InnerHTMLAsync("#canvas");
        string itrs40 = await page.InnerTextAsync("#itrs"), rules40 = await page.InnerTextAsync("#rules"), rb40 = await page.InnerTextAsync("#readback");
        await Shot(page, "debugger-step40.png");

        await page.FillAsync("#nsteps", "25");
        await page.Keyboard.PressAsync("Escape");
        await page.ClickAsync("#stepN");
        await Assertions.Expect(steps).ToHaveTextAsync("65");
        Assert.NotEqual(svg40, await page.InnerHTMLAsync("#canvas"));

        // Back 25 with the button, then one more back and one step with the keys.
        await page.ClickAsync("#backN");
        await Assertions.Expect(steps).ToHaveTextAsync("40");
        Assert.Equal(svg40, await page.InnerHTMLAsync("#canvas"));
        await page.Locator("body").ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 5 } });
        await page.Keyboard.PressAsync("b");
        await Assertions.Expect(steps).ToHaveTextAsync("39");
        await page.Keyboard.PressAsync("ArrowRight");
        await Assertions.Expect(steps).ToHaveTextAsync("40");
        Assert.Equal(svg40, await page.InnerHTMLAsync("#canvas"));
        Assert.Equal(itrs40, await page.InnerTextAsync("#itrs"));
        Assert.Equal(rules40, await page.InnerTextAsync("#rules"));
        Assert.Equal(rb40, await page.InnerTextAsync("#readback"));

        // Zoom and pan change the view, not the picture.
        var before = await page.GetAttributeAsync("#canvas", "style");
        await page.Keyboard.PressAsync("+");
        Assert.NotEqual(before, await page.GetAttributeAsync("#canvas", "style"));
        await page.Mouse.MoveAsync(400, 400);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(300, 350);
        await page.Mouse.UpAsync();
        Assert.Equal(svg40, await page.InnerHTMLAsync("#canvas"));

        // And to the end: sum(100) is 5050.
        await page.ClickAsync("#end");
        await Assertions.Expect(page.Locator("#result")).ToHaveTextAsync(File.ReadAllLines(Example("sum.expected"))[0]);
    }

    [Fact]
    public async Task Viz_svg_renders_in_the_browser()
    {
        string svg = Path.Combine(ArtifactDir, "viz-amb_batch.svg");
        var (code, _, err) = TestUtil.Cli("viz", Example("amb_batch.lmn"), "--at-sites", "-o", svg);
        Assert.True(code == 0, err);
        var (pw, browser) = await Browser();
        using var _ = pw;
        await using var __ = browser;
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 760 } });
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(new Uri(svg).AbsoluteUri);
        await Assertions.Expect(page.Locator("g.node.kAMB")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("g.node.kROOT")).ToHaveCountAsync(1);
        Assert.True(await page.Locator("g.node.kCON").CountAsync() > 10);
        await Shot(page, "viz-amb_batch.png");
    }
}
