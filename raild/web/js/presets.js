// Presets: named step and timing settings kept by the daemon (GET/PUT/DELETE
// /presets), loaded into the plan form. A failed request is said in the box's note.

import { api } from "./api.js";
import { applySettings, settingsBody } from "./plan-form.js";
import { human } from "./say.js";

const $ = (id) => document.getElementById(id);
let presets = [];
let reads = 0; // only the newest read of the list may fill the picker

function note(text) {
  $("preset-note").textContent = text;
}

/** Reread the list; `said` (what was just done) is kept as the note. */
export async function refreshPresets(said = "") {
  const read = ++reads;
  let list;
  try {
    list = await api("presets");
  } catch (err) {
    if (read === reads) note(human(err));
    return;
  }
  // A slower, older read (opening the box) must not undo a save's newer list.
  if (read !== reads) return;
  presets = Array.isArray(list) ? list : [];
  const pick = $("preset-pick");
  const keep = pick.value;
  pick.replaceChildren(...presets.map((p) => new Option(p.name, p.name)));
  if (presets.some((p) => p.name === keep)) pick.value = keep;
  $("preset-load").disabled = presets.length === 0;
  $("preset-delete").disabled = presets.length === 0;
  if (said) note(said);
  else if (!presets.length) note("No presets yet: set a step and timing, name them and save.");
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
    await refreshPresets(`Saved “${name}”.`);
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
    await refreshPresets(`Deleted “${name}”.`);
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
}
