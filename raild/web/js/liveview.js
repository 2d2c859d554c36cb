// Live view beside the jog pad. The MJPEG stream goes straight into an <img>; when
// the camera cannot stream (503) it falls back to a still preview every second, and
// when it cannot preview either it says so instead of showing a black box.
// The stream only runs while the Rig screen is visible, to spare the Pi's CPU and USB.

import { ApiError, api, apiUrl } from "./api.js";

const PREVIEW_EVERY_MS = 1000;

let img;
let note;
let active = false;
let mode = "off"; // "stream" | "preview" | "none" | "off"
let previewTimer = 0;
let previewUrl = "";

function showNote(text) {
  note.textContent = text;
  note.hidden = false;
}

function clearImage() {
  img.onerror = null;
  img.onload = null;
  img.removeAttribute("src"); // closes the MJPEG connection
  if (previewUrl) {
    URL.revokeObjectURL(previewUrl);
    previewUrl = "";
  }
}

async function previewOnce() {
  if (!active || mode !== "preview") return;
  try {
    const res = await api("camera/preview", { timeoutMs: 8000 });
    const blob = await res.blob();
    if (!active || mode !== "preview") return;
    const url = URL.createObjectURL(blob);
    img.src = url;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = url;
    note.hidden = true;
  } catch (err) {
    if (!active) return;
    if (err instanceof ApiError && err.status === 503) {
      mode = "none";
      clearImage();
      showNote(`No live view from this camera${err.message ? ` (${err.message})` : ""}.`);
      return;
    }
    showNote("Live view paused: no answer from the daemon.");
  }
  if (active && mode === "preview") previewTimer = setTimeout(previewOnce, PREVIEW_EVERY_MS);
}

function startStream() {
  mode = "stream";
  note.hidden = true;
  img.onerror = () => {
    if (!active || mode !== "stream") return;
    clearImage();
    mode = "preview";
    previewOnce();
  };
  // A fresh query string makes the browser open a new stream instead of reusing a
  // stalled one after a reconnect.
  img.src = `${apiUrl("camera/liveview")}?t=${Date.now()}`;
}

export function initLiveView() {
  img = document.getElementById("lv-img");
  note = document.getElementById("lv-note");
}

/** Start or stop the live view; `restart` reopens the stream (after a reconnect). */
export function setLiveViewActive(on, { restart = false } = {}) {
  if (on === active && !(on && restart)) return;
  active = on;
  clearTimeout(previewTimer);
  clearImage();
  mode = "off";
  if (on) startStream();
}
