// A 400 from an HTMX request carries a message for the listener: show it in the page's error box instead
// of dropping it (htmx swaps only 2xx responses by default).
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 400) {
    var box = document.getElementById("errors");
    if (box) {
      event.detail.shouldSwap = true;
      event.detail.target = box;
      event.detail.swapOverride = "innerHTML";
    }
  }
});
// A successful swap clears an old error.
document.addEventListener("htmx:afterSwap", function (event) {
  var box = document.getElementById("errors");
  if (box && event.detail.xhr.status < 400 && event.detail.target !== box) {
    box.innerHTML = "";
  }
});
