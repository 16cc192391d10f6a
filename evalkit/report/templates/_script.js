(function () {
  "use strict";
  var table = document.getElementById("task-table");
  function sortBy(th, col) {
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var num = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var v = row.cells[col].getAttribute("data-sort") || "";
      if (!num) { return v; }
      var x = parseFloat(v);
      return isNaN(x) ? -Infinity : x;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = num ? (x < y ? -1 : x > y ? 1 : 0) : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  if (table && table.tHead) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sortBy(th, col); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th, col); }
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-traces]"), function (b) {
    b.addEventListener("click", function () {
      var open = b.getAttribute("data-traces") === "expand";
      Array.prototype.forEach.call(document.querySelectorAll("details.trace"), function (d) { d.open = open; });
    });
  });
  function reveal(id) {
    var el = id && document.getElementById(id);
    var d = el && el.closest("details.trace");
    if (d) { d.open = true; }
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href^='#']");
    if (a) { reveal(decodeURIComponent(a.getAttribute("href").slice(1))); }
  });
  if (location.hash) { reveal(decodeURIComponent(location.hash.slice(1))); }
})();
