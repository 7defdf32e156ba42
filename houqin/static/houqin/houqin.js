// Houqin page behaviour that htmx and Alpine.js do not cover. No framework, no build step.
(function () {
  "use strict";
  // Lazy select (core/widgets.py LazySelect): pick a result by click or keyboard.
  function pick(button) {
    var box = button.closest("[data-lazy-select]");
    if (!box) return;
    box.querySelector("[data-lazy-value]").value = button.dataset.pk;
    var input = box.querySelector("[data-lazy-input]");
    input.value = button.dataset.label;
    input.setAttribute("aria-expanded", "false");
    box.querySelector(".lazy-results").innerHTML = "";
    input.focus();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  // Export and print follow the list's current filters, which htmx keeps in the address bar.
  function followQuery(link) {
    link.href = link.href.split("?")[0] + window.location.search;
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-lazy-option]");
    if (button) { e.preventDefault(); pick(button); }
    var link = e.target.closest("[data-follow-query]");
    if (link) followQuery(link);
  });
  // Dashboard charts: <div data-echarts="ID"> with its options in <script id="ID" type="application/json">.
  window.addEventListener("load", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-echarts]").forEach(function (el) {
      var source = document.getElementById(el.dataset.echarts);
      if (!source) return;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
  // Extra filters are open on wide screens and folded on phones.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.matchMedia("(min-width: 768px)").matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
    }
  });
  document.addEventListener("htmx:pushedIntoHistory", function () {
    document.querySelectorAll("[data-follow-query]").forEach(followQuery);
  });
  document.addEventListener("keydown", function (e) {
    var input = e.target.closest("[data-lazy-input]");
    var option = e.target.closest("[data-lazy-option]");
    if (input && e.key === "ArrowDown") {
      var first = input.parentElement.querySelector("[data-lazy-option]");
      if (first) { e.preventDefault(); first.focus(); }
    } else if (option && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      var sib = e.key === "ArrowDown" ? option.parentElement.nextElementSibling : option.parentElement.previousElementSibling;
      if (sib && sib.querySelector("[data-lazy-option]")) sib.querySelector("[data-lazy-option]").focus();
    } else if (input && e.key === "Enter") {
      e.preventDefault();  // Enter in the search box must not submit the form half-filled
    }
  });
  document.addEventListener("input", function (e) {
    var input = e.target.closest("[data-lazy-input]");
    if (input && input.value === "") input.parentElement.querySelector("[data-lazy-value]").value = "";
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var box = e.target.closest && e.target.closest("[data-lazy-select]");
    if (box) box.querySelector("[data-lazy-input]").setAttribute("aria-expanded", e.target.children.length ? "true" : "false");
  });
})();
