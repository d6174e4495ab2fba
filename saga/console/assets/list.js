// The executions list: fetched from /api/executions every second, filtered by status and
// state machine (the filters live in the URL, so a filtered view can be shared).
(function () {
  "use strict";
  var body = document.querySelector("#executions tbody");
  var status = document.getElementById("status");
  var machine = document.getElementById("machine");
  var live = document.querySelector(".live");
  var params = new URLSearchParams(window.location.search);
  status.value = params.get("status") || "";
  var wantedMachine = params.get("machine") || "";

  function cell(text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }
  var knownMachines = null;
  function render(data) {
    var machines = data.machines;
    if (knownMachines !== machines.join("\n")) {  // rebuilt only when the set changes
      knownMachines = machines.join("\n");
      var current = machine.value || wantedMachine;
      machine.innerHTML = "";
      [""].concat(machines).forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        option.textContent = name || "all state machines";
        machine.appendChild(option);
      });
      machine.value = machines.indexOf(current) >= 0 ? current : "";
    }
    body.innerHTML = "";
    var shown = data.executions.filter(function (e) {
      return (!status.value || e.status === status.value) && (!machine.value || e.machine === machine.value);
    });
    shown.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-name", e.name);
      tr.setAttribute("data-status", e.status);
      var name = document.createElement("td");
      var link = document.createElement("a");
      link.href = "executions/" + encodeURIComponent(e.name);
      link.textContent = e.name;
      name.appendChild(link);
      tr.appendChild(name);
      tr.appendChild(cell(e.machine));
      var st = document.createElement("td");
      st.className = "status-cell";
      var badge = document.createElement("span");
      badge.className = "status " + e.status;
      badge.textContent = e.status;
      st.appendChild(badge);
      tr.appendChild(st);
      tr.appendChild(cell(e.start));
      tr.appendChild(cell(e.duration, "num"));
      body.appendChild(tr);
    });
    document.getElementById("count").textContent = shown.length + " of " + data.executions.length;
    document.body.setAttribute("data-loaded", "true");
  }
  function refresh() {
    fetch("api/executions", {cache: "no-store"}).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(function (data) {
      live.classList.add("on");
      render(data);
    }).catch(function () {
      live.classList.remove("on");
    });
  }
  function filtersChanged() {
    var query = new URLSearchParams();
    if (status.value) query.set("status", status.value);
    if (machine.value) query.set("machine", machine.value);
    wantedMachine = machine.value;
    var text = query.toString();
    window.history.replaceState(null, "", text ? "?" + text : window.location.pathname);
    refresh();
  }
  status.addEventListener("change", filtersChanged);
  machine.addEventListener("change", filtersChanged);
  refresh();
  window.setInterval(refresh, 1000);
})();
