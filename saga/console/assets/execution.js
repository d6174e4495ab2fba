// Live updates of an execution page: while the execution runs, ask every second for the
// section again (the server answers 204 when no event was added) and swap it in, keeping
// the selected state.
(function () {
  "use strict";
  var live = document.querySelector(".live");
  function current() { return document.getElementById("execution"); }
  function ended() {
    var section = current();
    if (section && section.getAttribute("data-status") === "RUNNING") return false;
    live.classList.remove("on");
    live.textContent = "ended";
    return true;
  }
  function poll() {
    if (ended()) return;
    var section = current();
    var url = section.getAttribute("data-name");
    fetch(encodeURIComponent(url) + "/section?events=" + section.getAttribute("data-events"),
          {cache: "no-store"}).then(function (response) {
      if (response.status === 204) return null;
      if (!response.ok) throw new Error(response.status);
      return response.text();
    }).then(function (html) {
      live.classList.add("on");
      if (html) {
        var panel = section.querySelector(".panel");
        var selected = panel ? panel.getAttribute("data-state") : null;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        if (selected) fresh.setAttribute("data-selected", selected);
        section.replaceWith(fresh);
        window.sagaPage.bind(fresh);
      }
      if (!ended()) window.setTimeout(poll, 1000);
    }).catch(function () {
      live.classList.remove("on");
      window.setTimeout(poll, 2000);
    });
  }
  window.setTimeout(poll, 1000);
})();
