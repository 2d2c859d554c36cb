// Dark theme by default; a high-contrast light theme for sunlight, remembered per phone.

const KEY = "raild.theme";

function apply(theme) {
  document.documentElement.dataset.theme = theme;
  const light = theme === "light";
  const btn = document.getElementById("theme-toggle");
  btn.setAttribute("aria-pressed", String(light));
  btn.setAttribute("aria-label", light ? "Use the dark theme" : "Use the light theme for sunlight");
  btn.textContent = light ? "☾" : "☀";
  document.querySelector('meta[name="theme-color"]').content = light ? "#ffffff" : "#0f1317";
}

export function initTheme() {
  let saved = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    // Private mode may refuse storage; the dark default still works.
  }
  apply(saved === "light" ? "light" : "dark");
  document.getElementById("theme-toggle").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "light" ? "dark" : "light";
    apply(next);
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Not remembered, but applied for this visit.
    }
  });
}
