// Behaviour for the pages, kept out of the HTML: the Content-Security-Policy allows no inline script.
"use strict";

// A button with data-confirm="…" asks before its form is sent.
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("[data-confirm]");
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
