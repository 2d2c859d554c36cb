// Live view zoom for focusing: a tap zooms to 1:1 (one camera pixel per screen pixel)
// centred where it was tapped, another tap fits the picture again; two fingers pinch
// between fit and 4× of 1:1; one finger drags while zoomed. Only a CSS transform:
// the stream itself is untouched.

const $ = (id) => document.getElementById(id);

let fig;
let img;
let scale = 1;
let tx = 0;
let ty = 0;
const pointers = new Map();
let pinch = null; // {dist, scale, cx, cy}
let drag = null; // {x, y, tx, ty, moved}

function oneToOne() {
  const r = img.getBoundingClientRect();
  const natural = img.naturalWidth || 0;
  const shown = Math.min(r.width / scale, ((r.height / scale) * (img.naturalWidth || 1)) / (img.naturalHeight || 1));
  return natural > 0 && shown > 0 ? Math.max(1.5, natural / shown) : 3;
}

function clamp() {
  const w = fig.clientWidth;
  const h = fig.clientHeight;
  const maxX = (w * (scale - 1)) / 2;
  const maxY = (h * (scale - 1)) / 2;
  tx = Math.max(-maxX, Math.min(maxX, tx));
  ty = Math.max(-maxY, Math.min(maxY, ty));
}

function apply() {
  if (scale <= 1.001) {
    scale = 1;
    tx = 0;
    ty = 0;
  }
  clamp();
  // The peaking layer (aids.js) moves with the picture.
  for (const el of [img, $("lv-peak")]) el.style.transform = scale === 1 ? "" : `translate(${tx}px, ${ty}px) scale(${scale})`;
  const chip = $("lv-zoom");
  chip.hidden = scale === 1;
  chip.textContent = `${Math.abs(scale - oneToOne()) < 0.05 ? "1:1" : `${scale.toFixed(1)}×`} · tap to fit`;
  fig.dataset.zoom = scale === 1 ? "fit" : scale.toFixed(2);
}

/** Zoom to `to` keeping the figure point (px, py) (relative to its centre) under the finger. */
function zoomAt(to, px, py) {
  const k = to / scale;
  tx = px - (px - tx) * k;
  ty = py - (py - ty) * k;
  scale = to;
  apply();
}

function rel(ev) {
  const r = fig.getBoundingClientRect();
  return [ev.clientX - r.left - r.width / 2, ev.clientY - r.top - r.height / 2];
}

function onDown(ev) {
  pointers.set(ev.pointerId, ev);
  try {
    fig.setPointerCapture(ev.pointerId);
  } catch {
    // not capturable (synthetic); moves still arrive while over the figure
  }
  if (pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    const [ax, ay] = rel(a);
    const [bx, by] = rel(b);
    pinch = { dist: Math.hypot(ax - bx, ay - by) || 1, scale, cx: (ax + bx) / 2, cy: (ay + by) / 2 };
    drag = null;
  } else if (pointers.size === 1) {
    drag = { x: ev.clientX, y: ev.clientY, tx, ty, moved: false };
  }
}

function onMove(ev) {
  if (!pointers.has(ev.pointerId)) return;
  pointers.set(ev.pointerId, ev);
  if (pinch && pointers.size >= 2) {
    const [a, b] = [...pointers.values()];
    const [ax, ay] = rel(a);
    const [bx, by] = rel(b);
    const to = Math.max(1, Math.min(oneToOne() * 4, (pinch.scale * Math.hypot(ax - bx, ay - by)) / pinch.dist));
    zoomAt(to, pinch.cx, pinch.cy);
    return;
  }
  if (drag) {
    const dx = ev.clientX - drag.x;
    const dy = ev.clientY - drag.y;
    if (Math.hypot(dx, dy) > 8) drag.moved = true;
    if (drag.moved && scale > 1) {
      tx = drag.tx + dx;
      ty = drag.ty + dy;
      apply();
    }
  }
}

function onUp(ev) {
  const wasPinch = Boolean(pinch);
  pointers.delete(ev.pointerId);
  if (pointers.size < 2) pinch = null;
  if (ev.type === "pointerup" && drag && !drag.moved && !wasPinch && pointers.size === 0) {
    const [px, py] = rel(ev);
    if (scale === 1) {
      // The tapped spot comes to the centre at 1:1.
      scale = oneToOne();
      tx = -px * scale;
      ty = -py * scale;
      apply();
    } else {
      scale = 1;
      apply();
    }
  }
  if (pointers.size === 0) drag = null;
}

export function resetZoom() {
  scale = 1;
  apply();
}

export function initZoom() {
  fig = $("lv");
  img = $("lv-img");
  fig.addEventListener("pointerdown", onDown);
  fig.addEventListener("pointermove", onMove);
  fig.addEventListener("pointerup", onUp);
  fig.addEventListener("pointercancel", onUp);
  window.addEventListener("resize", apply);
}
