// Sortable tables: click a header to sort by that column (numbers by value,
// text alphabetically); click again to reverse. Works offline, no library.
(function () {
  "use strict";

  function cellKey(cell) {
    var value = cell.getAttribute("data-v");
    return value === null ? null : parseFloat(value);
  }

  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = a.cells[index], y = b.cells[index];
      if (!x || !y) { return 0; }
      var kx = cellKey(x), ky = cellKey(y), order;
      if (kx !== null && ky !== null) {
        order = kx - ky;
      } else if (kx !== null) {
        order = -1;
      } else if (ky !== null) {
        order = 1;
      } else {
        order = x.textContent.localeCompare(y.textContent);
      }
      return ascending ? order : -order;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.setAttribute("tabindex", "0");
      header.setAttribute("title", "Sort by this column");
      header.addEventListener("click", function () { sortBy(table, index, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, index, header);
        }
      });
    });
  });

  // Print every collapsed table too.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
}());
