// Focusing aids over the live view, each switched by its own button and remembered:
// focus peaking (the daemon's sharpness tile grid from `camera/sharpness`, sharpest
// tiles tinted) and a brightness histogram (read here from the picture on screen).
// The peaking layer takes the live view's zoom transform, so it stays on its tiles.

const $ = (id) => document.getElementById(id);
const KEY = "raild.aids";
const PEAK_FROM = 0.55; // tiles at least this share of the sharpest tile are tinted
const HIST_EVERY_MS = 500;
const BINS = 64;

let on = { peaking: false, histogram: false };
let tiles = null;
let live = false;
let histTimer = 0;
let sample = null; // small canvas the picture is scaled into for the histogram

function save() {
  try {
    localStorage.setItem(KEY, JSON.stringify(on));
  } catch {
    // private mode: the choice lasts until reload
  }
}

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (saved) on = { peaking: saved.peaking === true, histogram: saved.histogram === true };
  } catch {
    // a broken entry: defaults
  }
}

/** Where the picture lies inside the figure (object-fit: contain). */
function pictureRect(w, h) {
  const img = $("lv-img");
  const nw = img.naturalWidth;
  const nh = img.naturalHeight;
  if (!nw || !nh) return null;
  const s = Math.min(w / nw, h / nh);
  return { x: (w - nw * s) / 2, y: (h - nh * s) / 2, w: nw * s, h: nh * s };
}

function drawPeaking() {
  const canvas = $("lv-peak");
  const show = on.peaking && live && tiles;
  canvas.hidden = !show;
  if (!show) return;
  const fig = $("lv");
  canvas.width = fig.clientWidth;
  canvas.height = fig.clientHeight;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const r = pictureRect(canvas.width, canvas.height);
  if (!r) return;
  const { rows, cols, values } = tiles;
  const tw = r.w / cols;
  const th = r.h / rows;
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < cols; j += 1) {
      const v = Number(values[i]?.[j]);
      if (!(v >= PEAK_FROM)) continue;
      ctx.fillStyle = `rgba(255, 0, 200, ${(0.25 + ((v - PEAK_FROM) / (1 - PEAK_FROM)) * 0.4).toFixed(2)})`;
      ctx.fillRect(r.x + j * tw, r.y + i * th, tw, th);
    }
  }
  canvas.style.transform = $("lv-img").style.transform;
}

function drawHistogram() {
  const out = $("lv-hist");
  const img = $("lv-img");
  if (!on.histogram || !live || !img.naturalWidth) {
    out.hidden = true;
    return;
  }
  sample ||= document.createElement("canvas");
  sample.width = 96;
  sample.height = 64;
  const sctx = sample.getContext("2d", { willReadFrequently: true });
  let data;
  try {
    sctx.drawImage(img, 0, 0, sample.width, sample.height);
    data = sctx.getImageData(0, 0, sample.width, sample.height).data;
  } catch {
    out.hidden = true; // a picture the page may not read
    return;
  }
  const counts = new Array(BINS).fill(0);
  for (let k = 0; k < data.length; k += 4) {
    const y = 0.2126 * data[k] + 0.7152 * data[k + 1] + 0.0722 * data[k + 2];
    counts[Math.min(BINS - 1, Math.floor((y / 256) * BINS))] += 1;
  }
  const peak = Math.max(...counts) || 1;
  const ctx = out.getContext("2d");
  ctx.clearRect(0, 0, out.width, out.height);
  ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = "#fff";
  const bw = out.width / BINS;
  counts.forEach((c, i) => {
    const h = (c / peak) * (out.height - 4);
    ctx.fillRect(i * bw, out.height - h, Math.max(1, bw - 0.5), h);
  });
  // Clipped ends get a red mark: blown highlights or crushed shadows.
  ctx.fillStyle = "#ff3b3b";
  if (counts[BINS - 1] > peak * 0.05) ctx.fillRect(out.width - 3, 0, 3, out.height);
  if (counts[0] > peak * 0.05) ctx.fillRect(0, 0, 3, out.height);
  out.dataset.pixels = String(data.length / 4);
  out.hidden = false;
}

function histLoop() {
  clearTimeout(histTimer);
  drawHistogram();
  if (on.histogram && live) histTimer = setTimeout(histLoop, HIST_EVERY_MS);
}

function render() {
  for (const [name, id] of [["peaking", "lv-peaking"], ["histogram", "lv-histogram"]]) {
    $(id).setAttribute("aria-pressed", String(on[name]));
  }
  drawPeaking();
  histLoop();
}

/** A sharpness reading (with its tile grid) or null when there is none. */
export function showReading(reading) {
  tiles = reading?.tiles?.rows > 0 && Array.isArray(reading.tiles.values) ? reading.tiles : null;
  drawPeaking();
}

/** The live view started or stopped. */
export function setAidsActive(active) {
  live = active;
  if (!active) tiles = null;
  render();
}

export function initAids() {
  load();
  for (const [name, id] of [["peaking", "lv-peaking"], ["histogram", "lv-histogram"]]) {
    const b = $(id);
    // Not a tap on the picture: no zoom.
    b.addEventListener("pointerdown", (ev) => ev.stopPropagation());
    b.addEventListener("pointerup", (ev) => ev.stopPropagation());
    b.addEventListener("click", () => {
      on[name] = !on[name];
      save();
      render();
    });
  }
  window.addEventListener("resize", drawPeaking);
  render();
}
