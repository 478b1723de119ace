// Page-level glue for the boosted site: every link and form is fetched by HTMX and swapped into <body>, so that
// the player keeps playing (static/js/player.js). What a full page load used to do for free is done here.
(function () {
  "use strict";

  // The CSRF token lives in the body (#csrf-token) rather than in a body attribute: a boosted log-in rotates
  // it, and only the body's content is swapped.
  document.addEventListener("htmx:configRequest", function (event) {
    var holder = document.getElementById("csrf-token");
    if (holder) event.detail.headers["X-CSRFToken"] = holder.dataset.token;
  });

  // The admin has its own pages, styles and scripts: a link into it is a plain navigation, not a body swap.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var path = event.detail.requestConfig && event.detail.requestConfig.path;
    if (event.detail.boosted && path && /^\/admin(\/|$)/.test(new URL(path, location.href).pathname)) {
      event.preventDefault();
      location.assign(path);
    }
  });

  // A boosted navigation that answers an error (a 400 with its sentence, a 404, the 503 "restarting" page)
  // still shows that page, as a plain navigation would; htmx swaps only 2xx by default.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.boosted && event.detail.xhr.status >= 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A whole page arriving by a boosted swap: put the keyboard at its start, as a page load would, unless
  // something in the new page asked for focus (autofocus).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.boosted) return;
    var wanted = document.querySelector("[autofocus]");
    var main = document.getElementById("main");
    if (wanted) wanted.focus();
    else if (main) main.focus({ preventScroll: true });
  });
})();
