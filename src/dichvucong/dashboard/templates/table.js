// Tables that sort and filter on the page: a click (or Enter) on a header sorts by that column, again
// the other way; the box above a table keeps the rows whose text holds what is typed. Numbers sort as
// numbers: each cell carries its value (data-value), and a cell without one is read as the page shows
// it, in Vietnamese (35.453 / 96,85 % / −0,51) or English (35,453 / 96.85 %). Empty cells sort last.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "vi";
  var collator = new Intl.Collator(lang === "vi" ? "vi" : "en", {numeric: true, sensitivity: "base"});

  function parseShown(text) {
    var t = text.replace(/[\s\u00a0%]/g, "").replace(/\u2212/g, "-");
    if (t === "" || t === "\u2013") { return null; }
    if (lang === "vi") { t = t.replace(/\./g, "").replace(",", "."); } else { t = t.replace(/,/g, ""); }
    var n = Number(t);
    return isNaN(n) ? undefined : n;
  }

  function key(cell, numeric) {
    var raw = cell.getAttribute("data-value");
    if (raw !== null) {
      if (raw === "") { return null; }
      var n = Number(raw);
      return isNaN(n) ? raw : n;  // an ISO date or time sorts as text
    }
    var text = cell.textContent.trim();
    if (numeric) {
      var shown = parseShown(text);
      if (shown !== undefined) { return shown; }
    }
    return text === "" || text === "\u2013" ? null : text;
  }

  function compare(a, b) {
    if (a === null && b === null) { return 0; }
    if (a === null) { return 1; }
    if (b === null) { return -1; }
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    return collator.compare(String(a), String(b));
  }

  var NUMERIC = {"int": 1, "vnd": 1, "rate": 1, "points": 1, "days": 1, "bool": 1};

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = NUMERIC.hasOwnProperty(th.getAttribute("data-kind"));
    var descending = th.getAttribute("aria-sort") === "ascending";
    table.querySelectorAll("thead th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, n) {
      return {row: row, n: n, key: key(row.cells[index], numeric)};
    });
    rows.sort(function (x, y) {
      var order = compare(x.key, y.key);
      if (descending && x.key !== null && y.key !== null) { order = -order; }
      return order || x.n - y.n;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }

  function normalise(text) {
    return text.normalize("NFC").toLocaleLowerCase(lang);
  }

  function applyFilter(name) {
    var table = document.querySelector('table[data-table="' + name + '"]');
    if (!table) { return; }
    var box = document.querySelector('input.table-filter[data-for="' + name + '"]');
    var only = document.querySelector('input.table-only[data-for="' + name + '"]');
    var wanted = box ? normalise(box.value.trim()) : "";
    var column = only && only.checked ? only.getAttribute("data-column") : null;
    var shown = 0;
    var rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var keep = wanted === "" || normalise(row.textContent).indexOf(wanted) >= 0;
      if (keep && column) {
        var cell = row.querySelector('td[data-column="' + column + '"]');
        keep = cell !== null && cell.getAttribute("data-value") === "1";
      }
      row.hidden = !keep;
      if (keep) { shown++; }
    }
    var count = document.querySelector('.table-count[data-for="' + name + '"]');
    if (count) {
      count.textContent = wanted === "" && !column ? "" : count.getAttribute("data-template")
        .replace("{shown}", shown.toLocaleString(lang)).replace("{total}", rows.length.toLocaleString(lang));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th) {
        th.addEventListener("click", function () { sortBy(table, th); });
        th.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, th); }
        });
      });
    });
    document.querySelectorAll("input.table-filter, input.table-only").forEach(function (input) {
      var name = input.getAttribute("data-for");
      input.addEventListener("input", function () { applyFilter(name); });
      input.addEventListener("change", function () { applyFilter(name); });
    });
  });
})();
