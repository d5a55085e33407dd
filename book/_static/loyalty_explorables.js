// Draws every chapter explorable on the page (see simulations/explorables.py).
// The page carries the precomputed grid and a Vega-Lite spec as JSON; vega-embed, served by the book itself,
// draws it and redraws it when a bound slider or select moves. No kernel, no request leaving the machine.
// Each container records how long the first drawing took and when it was ready (data-draw-ms, data-ready-at-ms, used by benchmarks/bench_explorables.py) or its error.
//
// The layout follows the column: two charts a row where they fit, one a row on a phone, and each chart narrowed
// until the drawing is no wider than its container (a phone never scrolls sideways). Only the layout changes here;
// every number comes from the spec, computed by the model when the book was built.
(function () {
  "use strict";
  var views = (window.loyaltyExplorables = window.loyaltyExplorables || []);
  var MIN_CHART_WIDTH = 120; // px of plotting area: narrower than this and the axes' labels would crowd

  function isBarChart(chart) {
    var first = (chart.layer || [chart])[0];
    return Boolean(first.encoding && first.encoding.y && first.encoding.y.type === "nominal");
  }

  // Horizontal bars with each name above its bar instead of beside it: in one narrow column the names would
  // otherwise take half the width (and push every chart below right, as Vega lines up the plotting areas).
  function namesAboveBars(chart) {
    var bars = chart.layer[0];
    var category = JSON.parse(JSON.stringify(bars.encoding.y));
    bars.encoding.y.axis = null;
    bars.encoding.y.scale = Object.assign({}, bars.encoding.y.scale, { paddingInner: 0.6, paddingOuter: 0.3 });
    chart.height = { step: 40 };
    chart.layer.forEach(function (layer) {
      if (layer.encoding && layer.encoding.y) layer.encoding.y.scale = bars.encoding.y.scale;
    });
    category.axis = null;
    category.scale = bars.encoding.y.scale;
    chart.layer.push({
      mark: { type: "text", align: "left", baseline: "bottom", dy: -10, fontSize: 12, color: "#222222" },
      encoding: { y: category, x: { value: 0 }, text: { field: "category" } },
    });
  }

  // The spec laid out for `available` px: columns and chart widths. `shrinkBy` narrows each chart further.
  function laidOut(spec, available, shrinkBy) {
    var laid = JSON.parse(JSON.stringify(spec));
    var charts = laid.concat || [];
    var columns = available >= 560 ? Math.min(2, charts.length) : 1; // two charts of at least ~130 px side by side
    laid.columns = columns;
    charts.forEach(function (chart) {
      if (columns === 1 && isBarChart(chart)) namesAboveBars(chart);
      var margin = isBarChart(chart) && columns > 1 ? 180 : 70; // room for the names beside bars, or a numeric axis
      var fits = Math.floor(available / columns) - margin;
      var wanted = columns === 1 ? fits : Math.min(chart.width, fits); // a phone: as wide as the column allows
      chart.width = Math.max(MIN_CHART_WIDTH, wanted - shrinkBy);
    });
    return laid;
  }

  function drawnWidth(target) {
    var svg = target.querySelector("svg");
    return svg ? svg.getBoundingClientRect().width : 0;
  }

  function embed(container, spec, shrinkBy) {
    var target = container.querySelector(".loyalty-explorable-view");
    var available = container.clientWidth; // vega-embed makes the target an inline-block as wide as its drawing
    if (container.loyaltyView) {
      var index = views.indexOf(container.loyaltyView);
      if (index >= 0) views.splice(index, 1);
      container.loyaltyView.finalize();
    }
    return window.vegaEmbed(target, laidOut(spec, available, shrinkBy), { renderer: "svg", actions: false }).then(
      function (result) {
        container.loyaltyView = result.view;
        var overflow = drawnWidth(target) - available;
        if (overflow > 0.5 && shrinkBy < 400) {
          return embed(container, spec, shrinkBy + Math.ceil(overflow) + 2); // labels were wider than allowed for
        }
        container.setAttribute("data-columns", String(laidOut(spec, available, shrinkBy).columns || 1));
        container.loyaltyWidth = available;
        views.push(result.view);
        return result;
      }
    );
  }

  function draw(container) {
    var started = performance.now();
    var spec = JSON.parse(container.querySelector("script.loyalty-explorable-spec").textContent);
    container.loyaltySpec = spec;
    var target = container.querySelector(".loyalty-explorable-view");
    return embed(container, spec, 0).then(
      function () {
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

  // A phone turned sideways, or a window resized: lay the charts out again for the new width (the chosen
  // slider values are kept).
  function redrawOnResize() {
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        document.querySelectorAll(".loyalty-explorable[data-ready='true']").forEach(function (container) {
          if (Math.abs(container.clientWidth - container.loyaltyWidth) < 1) return;
          var view = container.loyaltyView;
          var spec = JSON.parse(JSON.stringify(container.loyaltySpec));
          (spec.params || []).forEach(function (param) {
            param.value = view.signal(param.name);
          });
          embed(container, spec, 0);
        });
      }, 200);
    });
  }

  function drawAll() {
    if (typeof window.vegaEmbed !== "function") {
      console.error("loyalty explorable: vega-embed did not load");
      return;
    }
    document.querySelectorAll(".loyalty-explorable").forEach(draw);
    redrawOnResize();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
