// The execution page: click a state in the graph to see its visits (input, output, error,
// cause, attempts). Reads the JSON embedded in #execution-data; no network access.
(function () {
  "use strict";
  var SHOWN_VISITS = 50;
  function text(value) {
    if (value === undefined || value === null) return "null";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  function block(label, value, cls) {
    return [el("div", {"class": "label"}, [label]), el("pre", {"class": cls || ""}, [text(value)])];
  }
  // A cause that is JSON (a Lambda error's errorMessage, errorType, stackTrace) is shown
  // indented; any other cause as it is.
  function readable(cause) {
    if (typeof cause !== "string") return cause;
    try {
      var parsed = JSON.parse(cause);
      return parsed !== null && typeof parsed === "object" ? parsed : cause;
    } catch (error) {
      return cause;
    }
  }
  function seconds(value) { return (Math.round(value * 1000) / 1000) + " s"; }
  function show(root, data, name) {
    var panel = root.querySelector(".panel");
    var state = data.states[name];
    if (!panel || !state) return;
    root.querySelectorAll(".graph .state.selected").forEach(function (g) { g.classList.remove("selected"); });
    root.querySelectorAll(".graph .state").forEach(function (g) {
      if (g.getAttribute("data-state") === name) g.classList.add("selected");
    });
    panel.innerHTML = "";
    panel.setAttribute("data-state", name);
    var heading = el("h3", {}, [name]);
    heading.appendChild(el("span", {"class": "tag o-" + state.outcome}, [state.outcomeLabel]));
    panel.appendChild(heading);
    panel.appendChild(el("div", {"class": "muted"}, [state.type + (state.role ? " · " + state.role : "") +
      " · " + state.visits.length + (state.visits.length === 1 ? " visit" : " visits")]));
    if (!state.visits.length) {
      panel.appendChild(el("p", {"class": "hint"}, ["This state was not reached."]));
    }
    var first = Math.max(0, state.visits.length - SHOWN_VISITS);
    if (first > 0) {
      panel.appendChild(el("p", {"class": "hint"}, ["the last " + SHOWN_VISITS + " of " +
        state.visits.length + " visits"]));
    }
    state.visits.slice(first).forEach(function (visit, offset) {
      var index = first + offset;
      var box = el("div", {"class": "visit"}, []);
      if (state.visits.length > 1) box.appendChild(el("div", {"class": "label"}, ["visit " + (index + 1)]));
      block("input", visit.input, "input").forEach(function (n) { box.appendChild(n); });
      if (visit.attempts.length > 1 || (visit.attempts.length && visit.attempts[0].error)) {
        var list = el("ol", {"class": "attempts"}, []);
        visit.attempts.forEach(function (attempt) {
          var line = (attempt.backoff !== null ? "after " + seconds(attempt.backoff) + ": " : "") +
            (attempt.error ? attempt.error : "succeeded");
          list.appendChild(el("li", {}, [line]));
        });
        box.appendChild(el("div", {"class": "label"}, ["attempts"]));
        box.appendChild(list);
      }
      if (visit.error !== null) {
        block("error", visit.error, "error").forEach(function (n) { box.appendChild(n); });
        block("cause", readable(visit.cause), "cause").forEach(function (n) { box.appendChild(n); });
      }
      if (visit.exited) block("output", visit.output, "output").forEach(function (n) { box.appendChild(n); });
      panel.appendChild(box);
    });
  }
  function bind(root) {
    var holder = root.querySelector("#execution-data");
    if (!holder) return;
    var data = JSON.parse(holder.textContent);
    root.querySelectorAll(".graph .state").forEach(function (g) {
      var name = g.getAttribute("data-state");
      g.addEventListener("click", function () { show(root, data, name); });
      g.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); show(root, data, name); }
      });
    });
    var selected = root.getAttribute("data-selected") || data.focus;
    if (selected && data.states[selected]) show(root, data, selected);
  }
  window.sagaPage = {bind: bind};
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("execution");
    if (root) bind(root);
  });
})();
