// Loyalty Lab classroom pages. No inline script: each page says what it is, and where its data is, in data-
// attributes on <body>; everything a user typed reaches the page as JSON and is written with textContent.
"use strict";

(function () {
  const body = document.body;
  // the page's words for what this script writes, in the page's language (data-words, set by the server)
  const words = JSON.parse(body.dataset.words || "{}");
  function say(key, fallback, values) {
    let text = words[key] || fallback;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }
  const locale = words.locale || "en";
  const decimals = function (value, digits) {
    return Number(value).toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  };

  // ---- sliders: show the value and the cost at this level (cost = unit cost x level squared, as rules.lever_cost)
  function showSlider(input) {
    const out = document.getElementById("out-" + input.name);
    if (out) out.textContent = input.value;
    const cost = document.getElementById("cost-" + input.name);
    if (cost && input.dataset.costUnit) {
      const unit = Number(input.dataset.costUnit), level = Number(input.value);
      cost.textContent = say("cost", "Cost: {cost} {per} at this level; {unit} at 1 (the cost grows with the square of the level)",
        { cost: decimals(unit * level * level, 2), per: input.dataset.costPer, unit: decimals(unit, 2) });
    }
  }
  document.querySelectorAll("input[type=range]").forEach(function (input) {
    input.addEventListener("input", function () { showSlider(input); });
    showSlider(input);
  });

  // ---- polling, bounded: stops after two hours of an open tab
  function poll(url, every, handle) {
    const until = Date.now() + 2 * 3600 * 1000;
    function tick() {
      if (Date.now() > until) return;
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) handle(data); })
        .catch(function () { /* the server restarting: try again at the next tick */ })
        .finally(function () { setTimeout(tick, every); });
    }
    tick();
  }

  function showProgress(status) {
    const box = document.getElementById("progress");
    if (!box) return;
    box.hidden = status.status !== "running";
    if (box.hidden) return;
    const p = status.progress || {};
    const share = p.months ? (p.months_done || 0) / p.months : 0;
    document.getElementById("progress-bar").style.width = Math.round(share * 100) + "%";
    document.getElementById("progress-text").textContent =
      say("progress", "round {round}: {phase}", { round: status.round, phase: (words.phases || {})[p.phase || "starting"] || p.phase || "starting" }) +
      (p.months ? say("month", " · month {done} of {months}", { done: p.months_done || 0, months: p.months }) : "");
  }

  // ---- the deadline: seconds left come from the server (a count, so the clocks need not agree); at zero the
  // hand-in button is disabled (the server refuses late hand-ins anyway)
  let countdownTimer = null;
  function countdown(secondsLeft) {
    const box = document.getElementById("countdown");
    if (!box) return;
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    if (secondsLeft === undefined || secondsLeft === null || secondsLeft === "") { box.hidden = true; return; }
    const end = Date.now() + Number(secondsLeft) * 1000;
    function tick() {
      const left = Math.max(0, Math.round((end - Date.now()) / 1000));
      const time = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      box.hidden = false;
      box.classList.toggle("closed", left === 0);
      box.textContent = left === 0 ? box.dataset.closedText : box.dataset.openText.replace("{time}", time);
      const button = document.getElementById("hand-in");
      if (button) button.disabled = left === 0;
      if (left === 0 && countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    }
    tick();
    countdownTimer = setInterval(tick, 1000);
  }
  let shownDeadline = null;
  function followRoom(status) {  // the announcement and the deadline, as the last poll says
    const line = document.getElementById("announcement");
    if (line) { line.textContent = status.announcement || ""; line.hidden = !status.announcement; }
    const deadline = status.deadline_in === undefined ? "" : status.deadline_in;
    if (String(deadline === "" ? "" : Math.round(deadline / 5)) !== shownDeadline) {  // re-sync past 5 s of drift
      shownDeadline = String(deadline === "" ? "" : Math.round(deadline / 5));
      countdown(deadline);
    }
  }

  function changed(status) {
    return String(status.rounds_played) !== body.dataset.roundsPlayed || status.status !== body.dataset.roundStatus ||
      (status.revealed !== undefined && body.dataset.revealed !== undefined && String(status.revealed) !== body.dataset.revealed);
  }

  // ---- the team's page: new results reload the page, unless the team is editing its strategy
  function playPage() {
    const holder = document.getElementById("team-chart");
    if (holder) loadChart(holder, holder.dataset.chartUrl);
    let editing = false;
    const form = document.getElementById("strategy-form");
    if (form) form.addEventListener("input", function () { editing = true; });
    const box = document.getElementById("countdown");
    if (box && box.dataset.deadlineIn !== "") countdown(box.dataset.deadlineIn);
    poll(body.dataset.statusUrl, 4000, function (status) {
      showProgress(status);
      followRoom(status);
      if (status.rematch && !document.getElementById("rematch")) { window.location.replace(window.location.pathname); return; }
      if (!changed(status)) return;
      if (status.status === "running") { body.dataset.roundStatus = "running"; return; }
      // the page's own address without ?saved=1, whose "Handed in" was about the last round
      if (editing) { document.getElementById("news").hidden = false; } else { window.location.replace(window.location.pathname); }
    });
  }

  // ---- the instructor's console: teams and hand-ins live; a finished round reloads the console
  function hostPage() {
    const box = document.getElementById("countdown");
    if (box && box.dataset.deadlineIn !== "") countdown(box.dataset.deadlineIn);
    poll(body.dataset.statusUrl, 1000, function (data) {
      showProgress(data.rounds);
      followRoom(data.rounds);
      const list = document.getElementById("teams");
      list.replaceChildren.apply(list, data.teams.map(function (team) {
        const item = document.createElement("li"), mark = document.createElement("span"), name = document.createElement("span");
        item.className = team.handed_in ? "in" : "out";
        mark.className = "mark"; mark.textContent = team.handed_in ? "✓" : "…";
        name.className = "name"; name.textContent = team.name;
        const pin = document.createElement("span");
        pin.className = "pin muted"; pin.title = list.dataset.pinTitle; pin.textContent = list.dataset.pinText.replace("{pin}", team.pin);
        item.append(mark, " ", name, " ", pin);
        return item;
      }));
      document.getElementById("team-count").textContent = data.teams.length;
      document.getElementById("handed-count").textContent = data.teams.filter(function (t) { return t.handed_in; }).length;
      if (changed(data.rounds) && data.rounds.status !== "running") window.location.reload();
      else if (data.rounds.status === "running") {
        document.getElementById("round-status").textContent = say("running", "Round {round} is being played.", { round: data.rounds.round });
      }
    });
  }

  // ---- the market chart, drawn here from /screen/GAME/market.json (one cached answer for every phone):
  // market share and cumulative profit by month, dashed lines where rounds end. Up to 8 teams each get a colour
  // and a dash pattern; with more, the top 6 are coloured and the others thin grey. "You" is always thick and black.
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#6A3D9A"];
  const DASHES = ["", "7 3", "2 3", "9 3 2 3", "", "7 3", "2 3", "9 3 2 3"];
  const OTHERS = "#b8c0cc";

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceTicks(low, high, count) {
    if (!(high > low)) { high = low + 1; }
    const raw = (high - low) / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(function (m) { return m * power; }).find(function (s) { return s >= raw; });
    const ticks = [];
    for (let t = Math.floor(low / step) * step; t <= high + step / 2; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
    return ticks;
  }

  function styles(data, you) {
    const many = data.teams.length > COLOURS.length;
    const style = {};
    data.teams.forEach(function (team, index) {
      if (team.name === you) style[team.name] = { colour: "#111", dash: "", width: 4, shown: true, you: true };
      else if (!many || index < 6) {
        style[team.name] = { colour: COLOURS[index % COLOURS.length], dash: DASHES[index % DASHES.length], width: 2.5, shown: true };
      } else style[team.name] = { colour: OTHERS, dash: "", width: 1.2, shown: false };
    });
    return style;
  }

  function panel(data, key, label, style, width, height, format) {
    const left = 64, right = 12, top = 38, bottom = 28;
    const box = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
                             "aria-label": label, class: "chart-panel" });
    const values = [];
    data.teams.forEach(function (t) { t[key].forEach(function (v) { if (v !== null) values.push(v); }); });
    const low = Math.min(0, Math.min.apply(null, values)), high = Math.max.apply(null, values.concat([low + 1]));
    const yTicks = niceTicks(low, high, 4), yLow = yTicks[0], yHigh = yTicks[yTicks.length - 1];
    const months = data.months, xHigh = months[months.length - 1] || 1;
    const x = function (m) { return left + (width - left - right) * m / xHigh; };
    const y = function (v) { return top + (height - top - bottom) * (1 - (v - yLow) / ((yHigh - yLow) || 1)); };
    yTicks.forEach(function (t) {
      box.append(svg("line", { x1: left, x2: width - right, y1: y(t), y2: y(t), class: "grid" }));
      box.append(svg("text", { x: left - 6, y: y(t) + 5, "text-anchor": "end", class: "tick" }, format(t)));
    });
    let start = 0;
    data.round_ends.forEach(function (end, index) {
      if (index < data.round_ends.length - 1) box.append(svg("line", { x1: x(end), x2: x(end), y1: top, y2: height - bottom, class: "round-end" }));
      box.append(svg("text", { x: (x(start) + x(end)) / 2, y: top - 6, "text-anchor": "middle", class: "round-label" }, data.roundLabel.replace("{round}", index + 1)));
      box.append(svg("text", { x: x(end), y: height - 8, "text-anchor": "middle", class: "tick" }, String(end)));
      start = end;
    });
    box.append(svg("text", { x: left, y: height - 8, "text-anchor": "middle", class: "tick" }, "0"));
    box.append(svg("text", { x: 4, y: 14, class: "axis-label" }, label));
    const order = data.teams.slice().sort(function (a, b) {  // the highlighted lines are drawn last, on top
      return (style[a.name].shown ? 1 : 0) + (style[a.name].you ? 1 : 0) - (style[b.name].shown ? 1 : 0) - (style[b.name].you ? 1 : 0);
    });
    order.forEach(function (team) {
      const s = style[team.name];
      const points = months.map(function (m, i) { return team[key][i] === null ? null : x(m).toFixed(1) + "," + y(team[key][i]).toFixed(1); })
        .filter(function (p) { return p !== null; });
      const line = svg("polyline", { points: points.join(" "), fill: "none", stroke: s.colour, "stroke-width": s.width,
                                     "stroke-dasharray": s.dash, "stroke-linejoin": "round" });
      line.append(svg("title", {}, team.name));
      box.append(line);
    });
    return box;
  }

  function drawChart(holder, data) {
    const you = holder.dataset.you || null;
    data.roundLabel = holder.dataset.roundLabel || "{round}";
    const style = styles(data, you);
    const width = Math.max(280, Math.floor(holder.clientWidth || 600));
    const height = Number(holder.dataset.panelHeight) || Math.round(Math.min(300, Math.max(190, width * 0.42)));
    const percent = function (v) { return v + "%"; };
    const money = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });
    const legend = document.createElement("ul");
    legend.className = "legend";
    data.teams.forEach(function (team) {
      const s = style[team.name];
      if (!s.shown) return;
      const item = document.createElement("li"), mark = svg("svg", { width: 34, height: 12, "aria-hidden": "true" });
      mark.append(svg("line", { x1: 1, x2: 33, y1: 6, y2: 6, stroke: s.colour, "stroke-width": Math.min(s.width, 4), "stroke-dasharray": s.dash }));
      const name = document.createElement("span");
      name.textContent = (team.rank ? team.rank + ". " : "") + (s.you ? say("you", "{name} (you)", { name: team.name }) : team.name);
      item.append(mark, name);
      legend.append(item);
    });
    const hidden = data.teams.filter(function (t) { return !style[t.name].shown; }).length;
    if (hidden) {
      const item = document.createElement("li"), mark = svg("svg", { width: 34, height: 12, "aria-hidden": "true" });
      mark.append(svg("line", { x1: 1, x2: 33, y1: 6, y2: 6, stroke: OTHERS, "stroke-width": 1.5 }));
      const name = document.createElement("span");
      name.textContent = holder.dataset.othersLabel.replace("{count}", hidden);
      item.append(mark, name);
      legend.append(item);
    }
    holder.replaceChildren(panel(data, "share", holder.dataset.shareLabel, style, width, height, percent),
                           panel(data, "profit", holder.dataset.profitLabel, style, width, height, function (v) { return money.format(v); }),
                           legend);
    holder.dataset.drawnRound = String(data.round);
  }

  function loadChart(holder, url) {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.teams.length) return;
        holder.chartData = data;
        drawChart(holder, data);
        if (holder.dataset.listening) return;
        holder.dataset.listening = "yes";
        let wide = holder.clientWidth;
        window.addEventListener("resize", function () {
          if (Math.abs(holder.clientWidth - wide) > 40) { wide = holder.clientWidth; drawChart(holder, holder.chartData); }
        });
      })
      .catch(function () { /* the page still shows the tables */ });
  }

  // ---- the projector: standings and the figure, redrawn in place
  const money = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function showSwitches(data) {  // who took whose customers: the round's largest moves from one team to another
    const box = document.getElementById("switches"), words = box.dataset, moves = data.switches || [];
    box.hidden = moves.length === 0;
    box.textContent = words.title.replace("{round}", data.revealed) + " " + moves.map(function (m) {
      return words.move.replace("{from}", m.from).replace("{to}", m.to).replace("{count}", money.format(m.customers));
    }).join(" · ");
  }

  function screenPage() {
    let figure = null, rows = [], page = 0, signature = "";
    const table = document.getElementById("leaderboard");
    const perPage = Number(table.dataset.rowsPerPage) || 10;

    function showPage() {  // all teams, a page at a time: the room sees every name without scrolling
      const pages = Math.max(1, Math.ceil(rows.length / perPage));
      page = page % pages;
      const body = document.getElementById("standings");
      body.replaceChildren.apply(body, rows.slice(page * perPage, (page + 1) * perPage));
      const label = document.getElementById("standings-page");
      label.hidden = pages < 2;
      label.textContent = table.dataset.pageText.replace("{page}", page + 1).replace("{pages}", pages);
    }
    setInterval(function () { page += 1; showPage(); }, 1000 * (Number(table.dataset.pageSeconds) || 8));

    poll(body.dataset.dataUrl, 3000, function (data) {
      const s = data.status;
      showProgress(s);
      followRoom(s);
      const line = document.getElementById("screen-status"), words = line.dataset;
      const state = s.status === "running" ? words.running.replace("{round}", s.round) :
        data.rounds_played >= data.rounds || s.ended_early ? words.over :
        words.handing.replace("{round}", data.rounds_played + 1).replace("{handed}", data.handed_in).replace("{teams}", data.teams);
      line.textContent = words.line.replace("{state}", state).replace("{played}", data.rounds_played).replace("{rounds}", data.rounds);
      const now = JSON.stringify([data.revealed, data.standings.length]);
      if (now !== signature) {  // new standings: rebuild the rows, back to the first page
        signature = now;
        page = 0;
        const most = Math.max.apply(null, data.standings.map(function (r) { return r.rounds_played || 0; }).concat([0]));
        rows = data.standings.map(function (r) {
          const tr = document.createElement("tr"), name = cell(r.team);
          name.className = "name"; name.title = r.team;
          if (r.rounds_played !== undefined && r.rounds_played < most) {  // joined late: from which round it plays
            const tag = document.createElement("span");
            tag.className = "joined";
            tag.textContent = table.dataset.joinedText.replace("{round}", data.revealed - r.rounds_played + 1);
            name.append(tag);
          }
          const share = new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
          const whole = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
          tr.append(cell(r.rank), name, cell(r.score === undefined ? "–" : decimals(r.score, 1)),
                    cell(share.format(r.market_share)), cell(money.format(r.profit)),
                    cell(whole.format(r.retention_12m)));
          return tr;
        });
        showPage();
      }
      showSwitches(data);
      // the rule for late teams, shown only when teams played different numbers of rounds
      document.getElementById("late-rule").hidden = new Set(data.standings.map(function (r) { return r.rounds_played; })).size < 2;
      document.getElementById("standings-round").textContent = data.standings.length ? data.revealed : "–";
      document.getElementById("standings-empty").hidden = data.standings.length > 0;
      if (data.chart && data.chart !== figure) {
        figure = data.chart;
        loadChart(document.getElementById("market-chart"), figure);
        document.getElementById("figure-empty").hidden = true;
      }
    });
  }

  // ---- practice: say that grading takes a few seconds
  function practicePage() {
    const form = document.getElementById("practice-form");
    form.addEventListener("submit", function () {
      document.getElementById("grade").disabled = true;
      document.getElementById("grading").hidden = false;
    });
  }

  const pages = { play: playPage, host: hostPage, screen: screenPage, practice: practicePage };
  if (pages[body.dataset.page]) pages[body.dataset.page]();
})();
