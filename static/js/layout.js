// The phone layout's small helpers (issue 17): no inline script, so the content security policy stays strict.
// 1. 菜单: below 720 px the header's menu collapses behind a button (static/css/site.css hides it only once
//    this script has marked the header, so without JavaScript the menu simply stays open).
// 2. Tables as cards: each cell of a `table.data` gets its column's heading as `data-label`, which the phone
//    style sheet shows before the cell (`td::before { content: attr(data-label) }`); `table.no-cards` opts out
//    and keeps scrolling inside its own box.
// 3. A box that scrolls sideways is made focusable, so it can be scrolled from the keyboard too.
(function () {
  "use strict";

  function menu() {
    var bar = document.querySelector(".topbar");
    var button = bar && bar.querySelector(".menu-toggle");
    var nav = bar && bar.querySelector("nav");
    if (!button || !nav) return;
    bar.classList.add("collapsible");
    button.hidden = false;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("open")) {
        bar.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function headings(table) {
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!row) return null;
    var names = [];
    Array.prototype.forEach.call(row.cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) names.push(cell.textContent.replace(/\s+/g, " ").trim());
    });
    return names;
  }

  function cards() {
    Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table) {
      if (table.classList.contains("no-cards")) return;
      var names = headings(table);
      if (!names) return;
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if ((cell.colSpan || 1) === 1 && names[column] && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", names[column]);
            }
            column += cell.colSpan || 1;
          });
        });
      });
      table.classList.add("cards");
    });
  }

  function scrollers() {
    Array.prototype.forEach.call(
      document.querySelectorAll(".table-wrap, .table-scroll, .scroll-box, table.data:not(.cards)"),
      function (box) {
        var scrolls = box.scrollWidth > box.clientWidth + 1;
        if (scrolls && !box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-scrolls", "");
        } else if (!scrolls && box.hasAttribute("data-scrolls")) {
          box.removeAttribute("tabindex");
          box.removeAttribute("data-scrolls");
        }
      });
  }

  function start() {
    menu();
    cards();
    scrollers();
    window.addEventListener("resize", scrollers);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
