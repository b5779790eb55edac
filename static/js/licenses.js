// Edit group → Licenses: "Add new license" appends a card from the formset's empty form
// (replacing __prefix__ and bumping TOTAL_FORMS), so nothing typed is lost; reminders reveal.
(function () {
  const form = document.getElementById("licenses-form");
  if (!form) return;
  const total = form.querySelector("input[name='blocks-TOTAL_FORMS']");
  const template = document.getElementById("block-template");
  const container = document.getElementById("blocks");
  const addButton = document.getElementById("add-license");

  if (addButton && template && total) {
    addButton.addEventListener("click", () => {
      const index = parseInt(total.value, 10);
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      container.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const empty = document.getElementById("no-blocks");
      if (empty) empty.remove();
      const card = container.lastElementChild;
      const first = card.querySelector("select, input:not([type=hidden])");
      if (first) first.focus();
    });
  }
  container && container.addEventListener("click", (event) => {
    // A saved card: the same red button marks it for removal (its DELETE box), and undoes that.
    const saved = event.target.closest("[data-remove-saved]");
    if (saved) {
      const card = saved.closest("[data-block-card]");
      const del = card.querySelector("input[name$='-DELETE']");
      const pressed = saved.getAttribute("aria-pressed") !== "true";
      saved.setAttribute("aria-pressed", pressed ? "true" : "false");
      if (del) del.checked = pressed;
      card.classList.toggle("to-remove", pressed);
      const note = card.querySelector("[data-removal-note]");
      if (note) note.hidden = !pressed;
      return;
    }
    const remove = event.target.closest("[data-remove-block]");
    if (!remove) return;
    // A new card is dropped from what is saved: its DELETE box is ticked and it is hidden.
    const card = remove.closest("[data-block-card]");
    const del = card.querySelector("input[name$='-DELETE']");
    if (del) del.checked = true;
    card.hidden = true;
    if (addButton) addButton.focus();
  });

  // The what-if of a change that takes something away: read first; "Keep editing" puts it away
  // (the next Save shows it again, for whatever the form then says).
  const whatIf = document.getElementById("what-if");
  if (whatIf) {
    whatIf.focus();
    const keep = whatIf.querySelector("[data-keep-editing]");
    if (keep) keep.addEventListener("click", (event) => {
      event.preventDefault();
      whatIf.hidden = true;
      const heading = document.getElementById("blocks-h");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    });
  }

  const reminder = document.getElementById("id_reminder_enabled");
  const options = document.getElementById("reminder-options");
  if (reminder && options) {
    // An error in the options (days out of range) stays in sight even with the box unticked.
    const sync = () => { options.hidden = !reminder.checked && !options.querySelector(".invalid-feedback"); };
    reminder.addEventListener("change", sync);
    sync();
  }
})();
