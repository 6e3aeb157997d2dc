// The workbench needs no script to work: every filter, sort and page is a link. This only reports
// script errors on the page and marks the page as rendered (the browser tests wait for it).
(function () {
  "use strict";
  var box = document.getElementById("js-errors");
  window.addEventListener("error", function (e) {
    if (box) { box.textContent += "script error: " + e.message + "\n"; }
  });
  // Keep the current hash target in view after the page lays out (a line of a text source).
  if (location.hash) {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) { target.scrollIntoView({block: "center"}); }
  }
  document.documentElement.setAttribute("data-rendered", "ok");
})();
