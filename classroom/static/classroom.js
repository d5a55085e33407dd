// Loyalty Lab classroom pages. No inline script: each page says what it is, and where its data is, in data-
// attributes on <body>; everything a user typed reaches the page as JSON and is written with textContent.
"use strict";

(function () {
  const body = document.body;

  // ---- sliders: show the value and the cost at this level (cost = unit cost x level squared, as rules.lever_cost)
  function showSlider(input) {
    const out = document.getElementById("out-" + input.name);
    if (out) out.textContent = input.value;
    const cost = document.getElementById("cost-" + input.name);
    if (cost && input.dataset.costUnit) {
      const unit = Number(input.dataset.costUnit), level = Number(input.value);
      cost.textContent = "Cost: " + (unit * level * level).toFixed(2) + " " + input.dataset.costPer +
        " at this level; " + unit.toFixed(2) + " at 1 (the cost grows with the square of the level)";
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
    document.getElementById("progress-text").textContent = "round " + status.round + ": " +
      (p.phase || "starting") + (p.months ? " · month " + (p.months_done || 0) + " of " + p.months : "");
  }

  function changed(status) {
    return String(status.rounds_played) !== body.dataset.roundsPlayed || status.status !== body.dataset.roundStatus ||
      (status.revealed !== undefined && body.dataset.revealed !== undefined && String(status.revealed) !== body.dataset.revealed);
  }

  // ---- the team's page: new results reload the page, unless the team is editing its strategy
  function playPage() {
    let editing = false;
    const form = document.getElementById("strategy-form");
    if (form) form.addEventListener("input", function () { editing = true; });
    poll(body.dataset.statusUrl, 4000, function (status) {
      showProgress(status);
      if (!changed(status)) return;
      if (status.status === "running") { body.dataset.roundStatus = "running"; return; }
      // the page's own address without ?saved=1, whose "Handed in" was about the last round
      if (editing) { document.getElementById("news").hidden = false; } else { window.location.replace(window.location.pathname); }
    });
  }

  // ---- the instructor's console: teams and hand-ins live; a finished round reloads the console
  function hostPage() {
    poll(body.dataset.statusUrl, 1000, function (data) {
      showProgress(data.rounds);
      const list = document.getElementById("teams");
      list.replaceChildren.apply(list, data.teams.map(function (team) {
        const item = document.createElement("li"), mark = document.createElement("span"), name = document.createElement("span");
        item.className = team.handed_in ? "in" : "out";
        mark.className = "mark"; mark.textContent = team.handed_in ? "✓" : "…";
        name.className = "name"; name.textContent = team.name;
        const pin = document.createElement("span");
        pin.className = "pin muted"; pin.title = "the team's PIN"; pin.textContent = "PIN " + team.pin;
        item.append(mark, " ", name, " ", pin);
        return item;
      }));
      document.getElementById("team-count").textContent = data.teams.length;
      document.getElementById("handed-count").textContent = data.teams.filter(function (t) { return t.handed_in; }).length;
      if (changed(data.rounds) && data.rounds.status !== "running") window.location.reload();
      else if (data.rounds.status === "running") {
        document.getElementById("round-status").textContent = "Round " + data.rounds.round + " is being played.";
      }
    });
  }

  // ---- the projector: standings and the figure, redrawn in place
  const money = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function screenPage() {
    let figure = null;
    poll(body.dataset.dataUrl, 3000, function (data) {
      const s = data.status;
      showProgress(s);
      document.getElementById("screen-status").textContent =
        (s.status === "running" ? "Round " + s.round + " is being played" :
          data.rounds_played >= data.rounds ? "The game is over" :
          "Teams handing in for round " + (data.rounds_played + 1) + ": " + data.handed_in + " of " + data.teams) +
        " · " + data.rounds_played + " of " + data.rounds + " rounds played";
      const rows = data.standings.map(function (r) {
        const tr = document.createElement("tr");
        tr.append(cell(r.rank), cell(r.team), cell((r.market_share * 100).toFixed(1) + "%"), cell(r.active),
                  cell(money.format(r.profit)), cell(Math.round(r.retention_12m * 100) + "%"));
        return tr;
      });
      document.getElementById("standings").replaceChildren.apply(document.getElementById("standings"), rows);
      document.getElementById("standings-round").textContent = data.standings.length ? data.revealed : "–";
      document.getElementById("standings-empty").hidden = data.standings.length > 0;
      if (data.figure && data.figure !== figure) {
        figure = data.figure;
        const img = document.getElementById("market-figure");
        img.src = figure; img.hidden = false;
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
