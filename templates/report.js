/* sweepreport - sortable tables, CSV download and copy button (no network). */
(function () {
  "use strict";

  function cellKey(td) {
    if (!td) return "";
    var s = td.getAttribute("data-sort");
    return s !== null ? s : td.textContent.trim();
  }

  function sortTable(table, col, th) {
    var body = table.tBodies[0];
    if (!body) return;
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.getAttribute("data-type") !== "text";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellKey(a.cells[col]), y = cellKey(b.cells[col]);
      if (numeric) {
        var fx = parseFloat(x), fy = parseFloat(y);
        var nx = isNaN(fx), ny = isNaN(fy);
        if (nx || ny) return nx === ny ? 0 : (nx ? 1 : -1); /* unknown last */
        return asc ? fx - fy : fy - fx;
      }
      var c = x.localeCompare(y, undefined, { numeric: true });
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }

  function csvField(s) {
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function tableCsv(table) {
    var lines = [];
    Array.prototype.forEach.call(table.rows, function (r) {
      var f = [];
      Array.prototype.forEach.call(r.cells, function (c) {
        var v = c.tagName === "TD" && c.getAttribute("data-sort") !== null && c.classList.contains("num")
          ? c.getAttribute("data-sort") : c.textContent.trim();
        f.push(csvField(v));
      });
      lines.push(f.join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function download(name, text) {
    var blob = new Blob([text], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function copyFallback(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok;
  }

  function flash(button, text) {
    var old = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", old);
    button.textContent = text;
    setTimeout(function () { button.textContent = old; }, 1500);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var head = table.tHead && table.tHead.rows[0];
      if (!head) return;
      Array.prototype.forEach.call(head.cells, function (th, i) {
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortTable(table, i, th); });
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, i, th); }
        });
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button[data-csv]"), function (b) {
      b.addEventListener("click", function () {
        var t = document.getElementById(b.getAttribute("data-csv"));
        if (t) download(b.getAttribute("data-file") || "table.csv", tableCsv(t));
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) {
      b.addEventListener("click", function () {
        var el = document.getElementById(b.getAttribute("data-copy"));
        if (!el) return;
        var text = el.textContent;
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { flash(b, "Copied"); },
            function () { flash(b, copyFallback(el) ? "Copied" : "Select and copy"); });
        } else {
          flash(b, copyFallback(el) ? "Copied" : "Select and copy");
        }
      });
    });
  }

  function checkImages() {
    var imgs = document.images, ok = true;
    for (var i = 0; i < imgs.length; i++)
      if (!imgs[i].complete || imgs[i].naturalWidth === 0) ok = false;
    document.documentElement.setAttribute("data-images-ok", ok ? "true" : "false");
    document.documentElement.setAttribute("data-images", String(imgs.length));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  if (document.readyState === "complete") checkImages();
  else window.addEventListener("load", checkImages);
})();
