/* The dashboard's trend chart: issued and closed per day (ECharts, vendored). */
(function () {
  "use strict";
  var me = document.currentScript;
  var box = document.getElementById("dash-trend");
  var source = document.getElementById("dash-trend-data");
  if (!box || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(box);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [me.dataset.issued, me.dataset.closed] },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: me.dataset.issued, type: "line", data: data.issued, color: "#1d4e89" },
      { name: me.dataset.closed, type: "line", data: data.closed, color: "#2e7d32" }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
