// Procedure steps in the admin: show only the settings of the step's kind (dispatch: the unit
// kind; device command: the device, its command and the command's settings; and so on).
(function () {
  "use strict";
  function follow(box) {
    const step = box.closest(".inline-related") || box.closest("form");
    const kind = step && step.querySelector("select[name$='-kind']");
    const update = () => {
      let shown = 0;
      for (const row of box.querySelectorAll("[data-kinds]")) {
        const on = kind && row.dataset.kinds.split(" ").includes(kind.value);
        row.hidden = !on;
        if (on) shown += 1;
      }
      const empty = box.querySelector(".step-params-empty");
      if (empty) empty.hidden = shown > 0;
    };
    if (kind) kind.addEventListener("change", update);
    update();
  }
  function start() {
    for (const box of document.querySelectorAll("[data-step-params]")) follow(box);
    // A step added with "Ajouter un objet étape supplémentaire".
    document.addEventListener("formset:added", (event) => {
      for (const box of event.target.querySelectorAll("[data-step-params]")) follow(box);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
