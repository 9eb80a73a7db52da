using System.Net;

namespace OrleansSweep.Hosting;

/// <summary>
/// The live page's HTML: one file, its style and script inline (no CDN: silos often reach no internet). The script polls
/// <c>state</c> every 2 s, redraws the grids in place, and swaps a figure only once its new version has loaded, so the
/// page does not flicker when left open all day.
/// </summary>
internal static class SweepPageHtml
{
    private const string Style = """
        :root { --fg: #1d2430; --muted: #6b7585; --line: #e2e6ec; --bg: #f6f7f9; --card: #fff; --run: #2563eb; --bad: #c2410c; --fail: #b45309; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
        header { background: var(--card); border-bottom: 1px solid var(--line); padding: 14px 24px; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
        h1 { font-size: 20px; margin: 0; }
        h2 { font-size: 15px; margin: 0 0 10px; }
        main { padding: 18px 24px; display: grid; gap: 18px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
        .muted { color: var(--muted); }
        .badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; background: #e5e7eb; }
        .badge.running { background: #dbeafe; color: var(--run); } .badge.completed { background: #dcfce7; color: #166534; }
        .badge.paused { background: #fef3c7; color: #92400e; } .badge.cancelled { background: #fee2e2; color: #991b1b; }
        .bar { height: 10px; background: #e5e7eb; border-radius: 5px; overflow: hidden; margin: 8px 0 6px; }
        .bar > div { height: 100%; background: #16a34a; width: 0; transition: width .6s ease; }
        .counts { display: flex; gap: 18px; flex-wrap: wrap; }
        .counts b { font-variant-numeric: tabular-nums; }
        .grids { display: flex; gap: 18px; flex-wrap: wrap; align-items: flex-start; }
        table.grid { border-collapse: separate; border-spacing: 3px; font-variant-numeric: tabular-nums; }
        table.grid th { font-weight: 600; color: var(--muted); padding: 2px 6px; font-size: 12px; }
        table.grid td { min-width: 86px; height: 40px; text-align: center; border-radius: 5px; padding: 2px 6px; background: #eef0f3; color: var(--muted); }
        table.grid td.acc { color: #0b2e13; font-weight: 600; }
        table.grid td.diverged { background: repeating-linear-gradient(45deg, #fde2d3, #fde2d3 6px, #fbd0b9 6px, #fbd0b9 12px); color: var(--bad); font-weight: 600; }
        table.grid td.failed { background: #fef3c7; color: var(--fail); font-weight: 600; }
        table.grid td.running { outline: 2px solid var(--run); outline-offset: -2px; color: var(--run); background: #dbeafe; }
        td small { display: block; font-weight: 400; font-size: 11px; }
        .legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; margin-top: 8px; }
        .legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 5px; vertical-align: -2px; background: var(--c); }
        .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 14px; }
        figure { margin: 0; } figure img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
        a { color: var(--run); } ul.files { margin: 0; padding-left: 18px; columns: 2; }
        #status { margin-left: auto; font-size: 12px; }
        """;

    private const string Script = """
        const name = document.body.dataset.sweep;
        const base = "/sweeps/" + encodeURIComponent(name);
        let shownSequence = -1, done = false;
        const pct = v => (100 * v).toFixed(1) + "%";
        function el(tag, attrs, text) { const e = document.createElement(tag); Object.assign(e, attrs || {}); if (text !== undefined) e.textContent = text; return e; }
        // Accuracy colours a cell from pale (chance) to deep green (best in the grid): readable at a glance.
        function shade(acc, lo, hi) { const t = hi > lo ? (acc - lo) / (hi - lo) : 1; return `hsl(140, ${35 + 30 * t}%, ${92 - 40 * t}%)`; }
        function drawGrids(state) {
          const host = document.getElementById("grids");
          host.replaceChildren();
          if (!state.grids) { host.append(el("p", { className: "muted" }, `${state.cells.toLocaleString()} cells: too many to draw; the counts above and the files below have them.`)); return; }
          const all = state.grids.flatMap(g => g.cells.flat()).map(c => c.median).filter(v => v != null);
          const lo = Math.min(...all), hi = Math.max(...all);
          for (const g of state.grids) {
            const card = el("div");
            card.append(el("h2", {}, `BN ${g.bnMode}: test accuracy, median over ${state.seeds} seed(s)`));
            const table = el("table", { className: "grid" });
            const head = el("tr"); head.append(el("th", {}, `m \\ ${state.learningRateAxis}`));
            for (const lr of g.learningRates) head.append(el("th", {}, lr));
            table.append(head);
            g.cells.forEach((row, b) => {
              const tr = el("tr"); tr.append(el("th", {}, String(g.batchSizes[b])));
              row.forEach((c, l) => {
                const td = el("td");
                td.dataset.batch = g.batchSizes[b]; td.dataset.lr = g.learningRates[l];
                let text = "", detail = [];
                if (c.median != null) { td.classList.add("acc"); td.style.background = shade(c.median, lo, hi); text = pct(c.median); td.dataset.state = "done"; }
                else if (c.diverged > 0) { td.classList.add("diverged"); text = "diverged"; td.dataset.state = "diverged"; }
                else if (c.failed > 0) { td.classList.add("failed"); text = "failed"; td.dataset.state = "failed"; }
                else if (c.running.length > 0) { text = "running"; td.dataset.state = "running"; }
                else { text = c.cancelled > 0 ? "cancelled" : "·"; td.dataset.state = c.cancelled > 0 ? "cancelled" : "pending"; }
                // The cell's state is its seeds': finished only when every seed is.
                const finishedSeeds = c.completed + c.diverged + c.failed + c.cancelled;
                td.dataset.state = c.running.length > 0 ? "running" : finishedSeeds === c.seeds ? td.dataset.state : finishedSeeds > 0 ? "partial" : "pending";
                if (c.median != null && c.diverged > 0) detail.push(`${c.diverged} div`);
                if (c.running.length > 0) { td.classList.add("running"); detail.push(c.running.map(r => `▶ ${r[0]}/${r[1]}`).join(" ")); }
                if (c.pending > 0 && finishedSeeds + c.running.length > 0) detail.push(`${c.pending} waiting`);
                td.append(document.createTextNode(text));
                if (detail.length) td.append(el("small", {}, detail.join(" · ")));
                td.title = `m=${g.batchSizes[b]}, ${state.learningRateAxis}=${g.learningRates[l]}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed, ${c.running.length} running, ${c.pending} pending of ${c.seeds}`;
                tr.append(td);
              });
              table.append(tr);
            });
            card.append(table);
            host.append(card);
          }
        }
        function drawFigures(state) {
          const host = document.getElementById("figures");
          if (state.figures.length === 0) { if (!host.firstChild) host.append(el("p", { className: "muted" }, "The figures appear with the first results.")); return; }
          if (host.querySelector("p")) host.replaceChildren();
          for (const f of state.figures) {
            let fig = host.querySelector(`figure[data-name="${f.name}"]`);
            if (!fig) {
              fig = el("figure"); fig.dataset.name = f.name;
              fig.append(el("img", { alt: f.caption }), el("figcaption", {}, f.caption));
              host.append(fig);
            }
            const img = fig.querySelector("img"), next = new Image();
            next.onload = () => { img.src = next.src; };
            next.src = `${base}/figures/${encodeURIComponent(f.name)}.svg?v=${state.sequence}`;
          }
        }
        function drawFiles(state) {
          const list = document.getElementById("files");
          if (list.childElementCount) return;
          for (const f of state.files) { const li = el("li"); li.append(el("a", { href: `${base}/files/${f}` }, f)); list.append(li); }
        }
        async function refresh() {
          const status = document.getElementById("status");
          try {
            const response = await fetch(`${base}/state`, { cache: "no-store" });
            if (response.status === 404) { status.textContent = "no such sweep on this cluster"; return; }
            const state = await response.json();
            document.getElementById("state").textContent = state.state;
            document.getElementById("state").className = "badge " + state.state;
            document.getElementById("what").textContent = `${state.model} on ${state.dataset}, ${state.epochs} epoch(s) per trial`;
            document.getElementById("bar").style.width = pct(state.fraction);
            document.getElementById("counts").replaceChildren(...[
              ["trials done", `${state.finished} / ${state.total}`], ["running", state.running], ["completed", state.completed],
              ["diverged", state.diverged], ["failed", state.failed], ["epochs done", pct(state.fraction)]].map(([k, v]) => { const s = el("span"); s.append(el("b", {}, String(v)), document.createTextNode(" " + k)); return s; }));
            drawGrids(state);
            if (state.sequence !== shownSequence) { drawFigures(state); shownSequence = state.sequence; }
            drawFiles(state);
            done = state.state === "completed" || state.state === "cancelled";
            status.textContent = (done ? "final" : "live") + " · updated " + new Date().toLocaleTimeString();
          } catch (e) {
            // The silo restarting, or an embedded run that ended (its study directory has the report): keep trying.
            status.textContent = "no answer from the server (stopped, or the run ended); retrying…";
          }
          if (!done) setTimeout(refresh, 2000);
        }
        refresh();
        """;

    public static string Page(string sweep)
    {
        string name = WebUtility.HtmlEncode(sweep);
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{name}} · OrleansSweep</title><link rel="icon" href="data:,"><style>{{Style}}</style></head>
            <body data-sweep="{{name}}">
            <header><h1>{{name}}</h1><span id="state" class="badge">…</span><span id="what" class="muted"></span><span id="status" class="muted">connecting…</span></header>
            <main>
              <section class="card"><div class="bar"><div id="bar"></div></div><div id="counts" class="counts"></div></section>
              <section class="card"><div id="grids" class="grids"></div>
                <div class="legend"><span style="--c: hsl(140,65%,52%)">accuracy (darker: better)</span><span style="--c: #fbd0b9">diverged</span>
                <span style="--c: #fef3c7">failed</span><span style="--c: #dbeafe">running (epochs done / of)</span><span style="--c: #eef0f3">pending</span></div></section>
              <section class="card"><h2>Figures, from the results so far</h2><div id="figures" class="figures"></div></section>
              <section class="card"><h2>Files (the results so far)</h2><ul id="files" class="files"></ul>
                <p class="muted">A whole study directory: <code>orleans-sweep pull {{name}}</code>.</p></section>
            </main>
            <script>{{Script}}</script>
            </body></html>
            """;
    }

    public static string List(string items) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Sweeps · OrleansSweep</title><link rel="icon" href="data:,"><style>{{Style}}</style></head>
        <body><header><h1>Sweeps</h1></header><main><section class="card"><ul>{{items}}</ul></section></main></body></html>
        """;
}
