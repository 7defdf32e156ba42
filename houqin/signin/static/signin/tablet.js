/* PIN pad: the digit buttons type into the labelled PIN input (which also works with a keyboard). */
(function () {
  "use strict";
  function setup(pad) {
    var input = document.getElementById(pad.getAttribute("data-target"));
    if (!input) { return; }
    var max = parseInt(input.getAttribute("maxlength") || "6", 10);
    var idle = null;
    function changed() {
      clearTimeout(idle);
      idle = setTimeout(function () { input.value = ""; }, 30000);  // a half-typed PIN does not linger
    }
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("button");
      if (!key) { return; }
      var digit = key.getAttribute("data-digit");
      var action = key.getAttribute("data-action");
      if (digit !== null && input.value.length < max) {
        input.value += digit;
      } else if (action === "back") {
        input.value = input.value.slice(0, -1);
      } else if (action === "clear") {
        input.value = "";
      }
      changed();
    });
    input.addEventListener("input", changed);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var pads = document.querySelectorAll("[data-pin-pad]");
    for (var i = 0; i < pads.length; i++) { setup(pads[i]); }
  });
})();
