// Behaviour for the pages, kept out of the HTML: the Content-Security-Policy allows no inline
// script. The phone menu and confirmations (data-confirm on a button or its form); pages work
// without it.
(function () {
  "use strict";

  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var header = document.querySelector("header.top");
    if (!toggle || !header) return;
    toggle.hidden = false;
    header.classList.add("menu-ready");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    });
  }

  function setUpConfirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var button = event.submitter;
      var message = (button && button.getAttribute("data-confirm")) ||
        form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        event.preventDefault();
      }
    });
  }

  setUpMenu();
  setUpConfirmations();
})();
