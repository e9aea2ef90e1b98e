// Search over the archive's titles and summaries, in the reader's browser: the index is
// search-index.json, built with the site. Results are written as text (never as markup).
(function () {
  "use strict";
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  if (!status || !results) { return; }
  var query = new URLSearchParams(window.location.search).get("q") || "";
  var input = document.getElementById("q");
  if (input) { input.value = query; }

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function show(index) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    results.textContent = "";
    if (!words.length) { status.textContent = ""; return; }
    var base = status.getAttribute("data-index").replace(/[^\/]*$/, "");
    var found = [];
    index.entries.forEach(function (rows, issue) {  // the rows of each issue, in turn
      rows.forEach(function (entry) {
        var haystack = fold(entry[2] + " " + entry[3]);
        if (words.every(function (word) { return haystack.indexOf(word) !== -1; })) {
          found.push([entry[0], entry[1], entry[2], entry[3], issue]);
        }
      });
    });
    var label = found.length ? status.getAttribute("data-found") : status.getAttribute("data-none");
    status.textContent = label + " " + status.getAttribute("data-open") + query + status.getAttribute("data-close") + status.getAttribute("data-colon") + " " + found.length;
    found.slice(0, 200).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = base + entry[0];
      link.textContent = entry[2];
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " " + entry[1] + " \u00b7 " + index.issues[entry[4]];
      item.appendChild(link);
      item.appendChild(meta);
      results.appendChild(item);
    });
  }

  if (!query) { status.textContent = ""; return; }
  fetch(status.getAttribute("data-index"))
    .then(function (response) { return response.json(); })
    .then(show)
    .catch(function () { status.textContent = status.getAttribute("data-failed"); });
})();
