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
  // A trace's body lives in a compressed block (gzip, base64) decoded the first time one of its traces opens.
  var blocks = {};
  function block(n) {
    if (!blocks[n]) {
      var el = document.getElementById("trace-block-" + n);
      blocks[n] = !el ? Promise.reject(new Error("trace block " + n + " is missing"))
        : typeof DecompressionStream === "undefined"
          ? Promise.reject(new Error("this browser cannot decompress (no DecompressionStream)"))
          : new Promise(function (resolve) {
            var bin = atob(el.textContent.trim());
            var bytes = new Uint8Array(bin.length);
            for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
            resolve(new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text());
          }).then(JSON.parse);
    }
    return blocks[n];
  }
  function fill(d) {
    var body = d.querySelector(":scope > .trace-body");
    if (!body || body.hasAttribute("data-filled")) { return Promise.resolve(); }
    body.setAttribute("data-filled", "");
    return block(body.getAttribute("data-block")).then(function (bodies) {
      // The bodies were rendered by the report's autoescaping template: model output in them is escaped.
      body.innerHTML = bodies[d.id];
    }, function (err) {
      body.removeAttribute("data-filled");
      body.textContent = "Cannot show this trace here (" + err.message + "); evalkit show prints it.";
    });
  }
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (d.matches && d.matches("details.trace") && d.open) { fill(d); }
  }, true);
  Array.prototype.forEach.call(document.querySelectorAll("button[data-traces]"), function (b) {
    b.addEventListener("click", function () {
      var open = b.getAttribute("data-traces") === "expand";
      Array.prototype.forEach.call(document.querySelectorAll("details.trace"), function (d) { d.open = open; });
    });
  });
  function reveal(id) {
    var m = /^(trace-\d+)(?:-e\d+)?$/.exec(id || "");
    var d = m && document.getElementById(m[1]);
    if (!d) { return; }
    d.open = true;
    fill(d).then(function () {
      // Scroll again once the trace is decoded: an event's anchor exists only now, and a trace near the end
      // of the page could not be scrolled to the top before its body made the page longer. The sticky bar is
      // allowed for by the page's scroll-padding.
      var el = document.getElementById(id);
      if (el) { el.scrollIntoView(); }
    });
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href^='#']");
    if (a) { reveal(decodeURIComponent(a.getAttribute("href").slice(1))); }
  });
  function revealHash() { if (location.hash) { reveal(decodeURIComponent(location.hash.slice(1))); } }
  window.addEventListener("hashchange", revealHash);
  revealHash();
})();
