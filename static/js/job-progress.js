// Live progress of an instance's job on the instance page. The page works
// without this script (its progress area has a link that reloads it); with
// it, the area follows the job through the server-sent events of
// data-events, and once the job has ended the browser goes to the page the
// last event names (the instance, refreshed; its new name after a rename;
// the list after a destroy). Action forms disable their button when
// submitted, so a double click sends one request.
(function () {
  "use strict";

  document.querySelectorAll("form.action-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        // After the submission has started, so the request is not lost.
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });

  var area = document.getElementById("job-progress");
  if (!area || area.dataset.finished === "true" || !area.dataset.events || !window.EventSource) {
    return;
  }
  var source = new EventSource(area.dataset.events);
  source.addEventListener("progress", function (e) {
    area.innerHTML = e.data;
  });
  source.addEventListener("end", function (e) {
    source.close();
    var next = area.dataset.next;
    try {
      var d = JSON.parse(e.data);
      if (d.location) {
        next = d.location;
      }
    } catch (err) {
      // Keep the area's own target.
    }
    if (!next || next === window.location.pathname) {
      window.location.reload();
    } else {
      window.location.assign(next);
    }
  });
})();
