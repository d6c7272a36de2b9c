// The dashboards' charts (Chart.js, vendored). A file rather than inline scripts: the content security
// policy allows scripts from this site only. Each chart reads its rows from a json_script block.
(function () {
  "use strict";
  function rows(id) {
    const block = document.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }
  const pct = (v) => (v === null ? null : Math.round(v * 1000) / 10);

  const districts = rows("district-data");
  if (districts) {
    new Chart(document.getElementById("districts"), {
      type: "bar",
      data: {labels: districts.map((r) => r.name), datasets: [
        {label: "学分达标率 %", data: districts.map((r) => pct(r.rate)), backgroundColor: "#2e7d32"}]},
      options: {scales: {y: {min: 0, max: 100}}, animation: false},
    });
  }

  const trend = rows("trend-data");
  if (trend) {
    new Chart(document.getElementById("trend"), {
      type: "line",
      data: {
        labels: trend.map((t) => t.year + "年"),
        datasets: [
          {label: "学分达标率 %", data: trend.map((t) => pct(t.compliance)), borderColor: "#2e7d32"},
          {label: "参培率 %", data: trend.map((t) => pct(t.participation)), borderColor: "#1f4e79"},
          {label: "合格率 %", data: trend.map((t) => pct(t.pass)), borderColor: "#e08a00"},
        ],
      },
      options: {scales: {y: {min: 0, max: 100}}, animation: false},
    });
  }

  const plan = rows("plan-data");
  if (plan) {
    new Chart(document.getElementById("plan-chart"), {
      type: "bar",
      data: {labels: plan.map((r) => r.label), datasets: [
        {label: "目标", data: plan.map((r) => r.target), backgroundColor: "#b8c7d9"},
        {label: "现有", data: plan.map((r) => r.held), backgroundColor: "#2e7d32"}]},
      options: {animation: false},
    });
  }
})();
