// Presets: named step and timing settings kept by the daemon (GET/PUT/DELETE
// /presets), loaded into the plan form. Hidden when the daemon has no presets.

import { api } from "./api.js";
import { has, onCaps } from "./caps.js";
import { applySettings, settingsBody } from "./plan-form.js";
import { human } from "./say.js";

const $ = (id) => document.getElementById(id);
let presets = [];

function note(text) {
  $("preset-note").textContent = text;
}

export async function refreshPresets() {
  const box = $("presets-box");
  box.hidden = has("presets") !== true;
  if (box.hidden) return;
  try {
    const list = await api("presets");
    presets = Array.isArray(list) ? list : [];
  } catch (err) {
    note(human(err));
    return;
  }
  const pick = $("preset-pick");
  const keep = pick.value;
  pick.replaceChildren(...presets.map((p) => new Option(p.name, p.name)));
  if (presets.some((p) => p.name === keep)) pick.value = keep;
  $("preset-load").disabled = presets.length === 0;
  $("preset-delete").disabled = presets.length === 0;
  if (!presets.length) note("No presets yet: set a step and timing, name them and save.");
}

async function load() {
  const preset = presets.find((p) => p.name === $("preset-pick").value);
  if (!preset) return;
  applySettings(preset);
  note(`Loaded “${preset.name}”.`);
}

async function saveOne() {
  const name = $("preset-name").value.trim();
  if (!name) {
    note("Give the preset a name first.");
    return;
  }
  try {
    await api(`presets/${encodeURIComponent(name)}`, { method: "PUT", body: settingsBody() });
    note(`Saved “${name}”.`);
    await refreshPresets();
    $("preset-pick").value = name;
  } catch (err) {
    note(human(err));
  }
}

async function remove() {
  const name = $("preset-pick").value;
  if (!name) return;
  try {
    await api(`presets/${encodeURIComponent(name)}`, { method: "DELETE" });
    note(`Deleted “${name}”.`);
    await refreshPresets();
  } catch (err) {
    note(human(err));
  }
}

export function initPresets() {
  $("preset-load").addEventListener("click", load);
  $("preset-save").addEventListener("click", saveOne);
  $("preset-delete").addEventListener("click", remove);
  $("presets-box").addEventListener("toggle", (ev) => {
    if (ev.currentTarget.open) refreshPresets();
  });
  onCaps(() => {
    $("presets-box").hidden = has("presets") !== true;
  });
}
