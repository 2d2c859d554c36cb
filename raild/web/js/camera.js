// Camera settings as selects holding the camera's own choices; a test shot.

import { ApiError, api, describeError } from "./api.js";
import { run } from "./actions.js";
import { getState } from "./store.js";

const $ = (id) => document.getElementById(id);
const LABELS = {
  shutterspeed: "Shutter",
  aperture: "Aperture",
  iso: "ISO",
  imageformat: "Format",
  capturetarget: "Save to",
};
const ORDER = ["shutterspeed", "aperture", "iso", "imageformat", "capturetarget"];

function settingControl(name, setting) {
  const wrap = document.createElement("label");
  wrap.textContent = LABELS[name] || name;
  const select = document.createElement("select");
  select.name = name;
  select.id = `cam-${name}`;
  select.setAttribute("aria-label", `Camera ${LABELS[name] || name}`);
  const choices = Array.isArray(setting.choices) && setting.choices.length ? setting.choices : [setting.value];
  for (const choice of choices) {
    const opt = document.createElement("option");
    opt.value = String(choice);
    opt.textContent = String(choice);
    select.append(opt);
  }
  select.value = String(setting.value);
  select.disabled = Boolean(setting.readonly);
  const error = document.createElement("span");
  error.className = "field-error";
  error.hidden = true;
  select.dataset.current = select.value;
  select.addEventListener("change", async () => {
    error.hidden = true;
    select.disabled = true;
    try {
      await api("camera/settings", { method: "PATCH", body: { [name]: select.value } });
      select.dataset.current = select.value;
    } catch (err) {
      select.value = select.dataset.current;
      error.textContent = describeError(err);
      error.hidden = false;
    } finally {
      select.disabled = Boolean(setting.readonly);
    }
  });
  wrap.append(select, error);
  return wrap;
}

export async function loadCameraSettings() {
  const box = $("camera-settings");
  const note = $("camera-note");
  const cam = getState().status?.camera;
  $("camera-line").textContent = cam
    ? `${cam.model || cam.backend} · ${cam.connected ? "connected" : "not connected"}`
    : "—";
  let settings;
  try {
    settings = await api("camera/settings");
  } catch (err) {
    box.replaceChildren();
    note.textContent = err instanceof ApiError && err.status === 503
      ? `Settings unavailable: ${err.message}`
      : describeError(err);
    note.hidden = false;
    return;
  }
  const rank = (n) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  const names = Object.keys(settings || {}).sort((a, b) => rank(a) - rank(b));
  box.replaceChildren(...names.map((n) => settingControl(n, settings[n])));
  note.textContent = names.length ? "" : "This camera offers no settings here.";
  note.hidden = names.length > 0;
}

export function initCamera() {
  $("camera-details").addEventListener("toggle", (ev) => {
    if (ev.currentTarget.open) loadCameraSettings();
  });
  $("btn-test-shot").addEventListener("click", async (ev) => {
    const shot = await run(ev.currentTarget, () => api("camera/capture", { method: "POST", body: {} }), {
      ok: "Test shot taken",
    });
    if (shot?.url) {
      const url = new URL(shot.url, document.baseURI).href;
      $("test-shot-img").src = url;
      $("test-shot-link").href = url;
      $("test-shot-link").hidden = false;
    }
  });
}
