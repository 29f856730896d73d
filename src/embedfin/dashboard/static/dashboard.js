// Draws every [data-figure] element with Plotly, on load and after each htmx swap (live panels).
(function () {
  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var figure = JSON.parse(el.getAttribute("data-figure"));
      Plotly.react(el, figure.data, figure.layout, { displaylogo: false, responsive: true });
      el.setAttribute("data-drawn", "1");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.detail.elt); });
  document.addEventListener("change", function (event) {
    // The storefront's "shopping as" selector: keep the chosen buyer in the Buy links.
    if (event.target.id !== "customer") return;
    document.querySelectorAll("a.buy").forEach(function (a) {
      var url = new URL(a.href);
      url.searchParams.set("customer", event.target.value);
      a.href = url.toString();
    });
  });
})();
