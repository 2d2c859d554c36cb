// What a stack produced, in its card: the fused preview and the depth map, the
// coverage verdict (ends cut, gaps) with its suggested plan, a frame strip with a
// viewer, and the zip download. A part that fails to load stays hidden.

import { run } from "./actions.js";
import { api, apiUrl } from "./api.js";
import { length } from "./format.js";
import { applySuggestion } from "./plan-form.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);
const ENDED = new Set(["completed", "cancelled", "failed", "interrupted", "paused"]);
const PREVIEW_EVERY_MS = 3000;

let shown = { id: "", state: "", frame: -1 };
let frames = []; // frames with a file here
let viewing = -1;
let lastPreview = 0;
let suggestion = null;
let onExtended = () => {};

const enc = encodeURIComponent;

function stackUrl(id, tail) {
  return apiUrl(`stacks/${enc(id)}/${tail}`);
}

function coverageText(c) {
  if (!c || c.state === "pending") return "Coverage: checking the frames…";
  const parts = [];
  if (c.near_end === "cut") parts.push("the near end is cut: part of the subject is sharpest in the first frame");
  if (c.far_end === "cut") parts.push("the far end is cut: part of the subject is sharpest in the last frame");
  const gaps = Array.isArray(c.gaps) ? c.gaps : [];
  if (gaps.length) {
    const list = gaps.slice(0, 3).map((g) => `${length(g.from_um)}–${length(g.to_um)}`).join(", ");
    parts.push(`${gaps.length} gap${gaps.length > 1 ? "s" : ""} between frames (${list}): the step is too large there`);
  }
  const so = c.state === "final" ? "" : " so far";
  if (c.complete || !parts.length) return `Coverage${so}: complete — both ends and every depth are covered.`;
  return `Coverage${so}: ${parts.join("; ")}.`;
}

async function refreshCoverage(job) {
  const box = $("run-coverage");
  if ((job.frame ?? 0) < 1) {
    box.hidden = true;
    return;
  }
  try {
    const c = await api(`stacks/${enc(job.id)}/coverage`, { timeoutMs: 8000 });
    if (shown.id !== job.id) return;
    $("run-coverage-text").textContent = coverageText(c);
    suggestion = c?.suggest || null;
    // One tap shoots only what is missing at a cut end (a follow-up stack with the
    // same step); the suggestion is for a whole new plan (gaps need a smaller step).
    const ended = ENDED.has(job.state) && job.state !== "paused";
    $("run-extend-near").hidden = !(ended && c?.near_end === "cut");
    $("run-extend-far").hidden = !(ended && c?.far_end === "cut");
    $("run-coverage-fix").hidden = !suggestion;
    if (suggestion) {
      $("run-coverage-fix").textContent = c.gaps?.length ? "Reshoot with a smaller step" : "Use the suggested plan";
    }
    box.hidden = false;
  } catch {
    box.hidden = true;
  }
}

function refreshPreview(job, force) {
  const fig = $("run-preview-fig");
  if ((job.frame ?? 0) < 2) {
    fig.hidden = true;
    return;
  }
  const now = Date.now();
  if (!force && now - lastPreview < PREVIEW_EVERY_MS) return;
  lastPreview = now;
  const img = $("run-preview");
  img.onerror = () => {
    fig.hidden = true;
  };
  img.onload = () => {
    fig.hidden = false;
  };
  img.src = `${stackUrl(job.id, "preview")}?f=${job.frame}`;
}

function refreshDepth(job) {
  const fig = $("run-depth-fig");
  if (job.state !== "completed") {
    fig.hidden = true;
    return;
  }
  const img = $("run-depth");
  img.onerror = () => {
    fig.hidden = true;
  };
  img.onload = () => {
    fig.hidden = false;
  };
  img.src = stackUrl(job.id, "depthmap");
}

function openViewer(i) {
  if (!frames.length) return;
  viewing = (i + frames.length) % frames.length;
  const f = frames[viewing];
  const url = stackUrl(shown.id, `frames/${f.index}`);
  $("viewer-img").src = url;
  $("viewer-img").alt = `Frame ${f.index + 1} of ${frames.length}`;
  const sharp = Number.isFinite(f.sharpness) ? ` · sharpness ${Number(f.sharpness).toFixed(1)}` : "";
  $("viewer-caption").textContent = `Frame ${viewing + 1} of ${frames.length} · at ${length(f.position_um)}${sharp}`;
  $("viewer-download").href = url;
  $("viewer-download").download = f.name || `frame-${f.index}.jpg`;
  const dlg = $("viewer");
  if (!dlg.open) dlg.showModal();
}

async function refreshStrip(job) {
  const box = $("run-strip-box");
  if (!ENDED.has(job.state) || (job.frame ?? 0) < 1) {
    box.hidden = true;
    return;
  }
  try {
    const list = await api(`stacks/${enc(job.id)}/frames`);
    if (shown.id !== job.id) return;
    frames = (Array.isArray(list) ? list : []).filter((f) => f.name);
  } catch {
    frames = [];
  }
  const strip = $("run-strip");
  strip.replaceChildren(...frames.map((f, i) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "frame-btn";
    b.setAttribute("aria-label", `View frame ${i + 1} at ${length(f.position_um)}`);
    const img = document.createElement("img");
    img.loading = "lazy";
    img.decoding = "async";
    img.alt = "";
    img.src = stackUrl(job.id, `frames/${f.index}`);
    b.append(img);
    b.addEventListener("click", () => openViewer(i));
    li.append(b);
    return li;
  }));
  $("run-strip-note").textContent = frames.length
    ? `${frames.length} frames — tap one to view it`
    : "The frames were kept on the camera's card: nothing to show here.";
  box.hidden = false;
}

/** Called on every render of the run card. */
export function updateResults(job) {
  const dl = $("run-download");
  if (!job) {
    shown = { id: "", state: "", frame: -1 };
    return;
  }
  dl.hidden = !((job.frame ?? 0) > 0 && ENDED.has(job.state));
  if (!dl.hidden) {
    dl.href = stackUrl(job.id, "archive");
    dl.download = `${(job.name || `stack-${job.id}`).replace(/[^\w.-]+/g, "_")}.zip`;
    dl.setAttribute("aria-label", "Download all frames as a zip");
  }
  const changed = job.id !== shown.id || job.state !== shown.state;
  const newFrame = job.frame !== shown.frame;
  if (job.id !== shown.id) {
    for (const id of ["run-preview-fig", "run-depth-fig", "run-coverage", "run-strip-box"]) $(id).hidden = true;
    lastPreview = 0;
  }
  shown = { id: job.id, state: job.state, frame: job.frame };
  if (newFrame || changed) refreshPreview(job, changed);
  if (changed || (newFrame && (job.frame ?? 0) % 5 === 0)) refreshCoverage(job);
  if (changed) {
    refreshDepth(job);
    refreshStrip(job);
  }
}

function extend(button, end) {
  const id = shown.id;
  run(button, async () => {
    const child = await api(`stacks/${enc(id)}/extend`, { method: "POST", body: { end } });
    onExtended(child);
  }, { ok: `Extending the ${end} end` });
}

/** `extended(job)`: a follow-up stack started from the coverage box. */
export function initResults({ extended } = {}) {
  if (extended) onExtended = extended;
  $("run-extend-near").addEventListener("click", (ev) => extend(ev.currentTarget, "near"));
  $("run-extend-far").addEventListener("click", (ev) => extend(ev.currentTarget, "far"));
  $("run-coverage-fix").addEventListener("click", () => {
    if (!suggestion) return;
    applySuggestion(suggestion);
    toast("The plan now holds the suggested start, end and step.");
    document.getElementById("plan-form").scrollIntoView({ block: "start", behavior: "smooth" });
  });
  $("viewer-prev").addEventListener("click", () => openViewer(viewing - 1));
  $("viewer-next").addEventListener("click", () => openViewer(viewing + 1));
  $("viewer-close").addEventListener("click", () => $("viewer").close());
  // Swipe between frames.
  let x0 = null;
  const img = $("viewer-img");
  img.addEventListener("pointerdown", (ev) => {
    x0 = ev.clientX;
  });
  img.addEventListener("pointerup", (ev) => {
    if (x0 === null) return;
    const dx = ev.clientX - x0;
    x0 = null;
    if (Math.abs(dx) > 40) openViewer(viewing + (dx < 0 ? 1 : -1));
  });
  $("viewer").addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowRight") openViewer(viewing + 1);
    if (ev.key === "ArrowLeft") openViewer(viewing - 1);
  });
}
