// 报告进度: polls the report's progress while it runs (a file, not an inline script: CSP).
(function () {
  "use strict";
  const section = document.getElementById("report");
  if (!section) return;
  const labels = {running: "生成中", done: "已完成", failed: "失败，请重新发起"};
  async function poll() {
    const response = await fetch(section.dataset.progressUrl);
    const data = await response.json();
    document.getElementById("bar").style.width = data.progress + "%";
    document.getElementById("status").textContent = labels[data.status] + "（" + data.progress + "%）";
    if (data.status === "done") { document.getElementById("done").hidden = false; return; }
    if (data.status === "running") setTimeout(poll, 1000);
  }
  if (section.dataset.status === "running") poll();
})();
