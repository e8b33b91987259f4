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

  function showScriptedParts() {
    // live parts (htmx) stay hidden where scripts do not run; the pages work without them
    document.querySelectorAll("[data-needs-script]").forEach(function (part) {
      part.hidden = false;
    });
  }

  setUpMenu();
  setUpConfirmations();
  showScriptedParts();
})();

// Listing form: show only the fields of the chosen category's kind; warn about an expired lot.
(function () {
  "use strict";
  var form = document.querySelector("form[data-category-kinds]");
  if (!form) return;
  var category = form.querySelector("select[name=category]");
  function showKind() {
    var option = category && category.options[category.selectedIndex];
    var kind = option ? option.getAttribute("data-kind") : null;
    form.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
      set.hidden = Boolean(kind) && set.getAttribute("data-kind") !== kind;
    });
  }
  var expiry = form.querySelector("input[name=expires_on]");
  var notice = document.getElementById("expired-notice");
  function checkExpiry() {
    if (!expiry || !notice) return;
    var today = notice.getAttribute("data-today");
    notice.hidden = !(expiry.value && today && expiry.value < today);
  }
  if (category) category.addEventListener("change", showKind);
  if (expiry) expiry.addEventListener("input", checkExpiry);
  showKind();
  checkExpiry();
})();
