// Draws every chapter explorable on the page (see simulations/explorables.py).
// The page carries the precomputed grid and a Vega-Lite spec as JSON; vega-embed, served by the book itself,
// draws it and redraws it when a bound slider or select moves. No kernel, no request leaving the machine.
// Each container records how long the first drawing took and when it was ready (data-draw-ms, data-ready-at-ms, used by benchmarks/bench_explorables.py) or its error.
(function () {
  "use strict";
  var views = (window.loyaltyExplorables = window.loyaltyExplorables || []);

  function draw(container) {
    var started = performance.now();
    var spec = JSON.parse(container.querySelector("script.loyalty-explorable-spec").textContent);
    var target = container.querySelector(".loyalty-explorable-view");
    return window.vegaEmbed(target, spec, { renderer: "svg", actions: false }).then(
      function (result) {
        views.push(result.view);
        container.setAttribute("data-draw-ms", (performance.now() - started).toFixed(1));
        container.setAttribute("data-ready-at-ms", performance.now().toFixed(1)); // since navigation start
        container.setAttribute("data-ready", "true");
      },
      function (error) {
        container.setAttribute("data-error", String(error));
        target.textContent = "The explorable could not be drawn: " + error;
        console.error("loyalty explorable:", error);
      }
    );
  }

  function drawAll() {
    if (typeof window.vegaEmbed !== "function") {
      console.error("loyalty explorable: vega-embed did not load");
      return;
    }
    document.querySelectorAll(".loyalty-explorable").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
