// Small behaviours with no business rules in them.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-tree-toggle]");
  if (!toggle) return;
  const expanded = toggle.getAttribute("aria-expanded") === "true";
  toggle.setAttribute("aria-expanded", expanded ? "false" : "true");
  toggle.textContent = expanded ? "+" : "−";
  const target = document.getElementById(toggle.getAttribute("aria-controls"));
  if (target) target.hidden = expanded;
});

// Tooltips on icon buttons (their accessible name is on aria-label; the tooltip is for the eye).
document.addEventListener("DOMContentLoaded", () => {
  if (!window.bootstrap) return;
  document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => new window.bootstrap.Tooltip(el));
});
