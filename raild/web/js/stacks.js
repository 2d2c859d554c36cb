// Stacks list: a thumbnail, state, frame count, zip download, delete (tap twice), resume.

import { api, apiUrl, describeError } from "./api.js";
import { run } from "./actions.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);
// The stack layer resumes a failed stack too (after the camera or rail is fixed).
const RESUMABLE = new Set(["paused", "interrupted", "failed"]);
const RUNNING = new Set(["queued", "running", "pausing", "cancelling"]);
const BADGE = {
  queued: "busy", running: "busy", pausing: "warn", paused: "warn", cancelling: "warn",
  completed: "ok", cancelled: "warn", failed: "bad", interrupted: "bad",
};
const CONFIRM_MS = 3000;

let loading = false;
let onResumed = () => {};
let onOpened = () => {};

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

function button(label, aria, onClick, cls = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

/** The middle frame shot so far: where a stack usually has its subject in focus.
 *  Loaded only when scrolled to; gone when the frames stayed on the camera's card. */
function thumb(stack, title) {
  const img = document.createElement("img");
  img.className = "stack-thumb";
  img.loading = "lazy";
  img.decoding = "async";
  img.alt = `${title}, middle frame`;
  img.addEventListener("error", () => img.remove());
  img.src = apiUrl(`stacks/${encodeURIComponent(stack.id)}/frames/${Math.ceil(stack.frame / 2)}`);
  return img;
}

function item(stack) {
  const li = document.createElement("li");
  li.className = "card stack-item";
  li.dataset.id = stack.id;
  li.dataset.state = stack.state;
  const title = stack.name || `Stack ${stack.id}`;

  const head = document.createElement("div");
  head.className = "head";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = title;
  const badge = document.createElement("span");
  badge.className = `badge ${BADGE[stack.state] || ""}`;
  badge.textContent = stack.state;
  head.append(name, badge);

  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `${stack.frame ?? 0}/${stack.frames ?? "?"} frames · ${when(stack.created_at)}`;

  const row = document.createElement("div");
  row.className = "row";
  const id = encodeURIComponent(stack.id);
  if ((stack.frame ?? 0) > 0) {
    const a = document.createElement("a");
    a.className = "button";
    // A stack that was extended downloads with its extensions, numbered as one sequence.
    const extensions = (stack.children ?? []).length;
    a.href = apiUrl(`stacks/${id}/archive${extensions ? "?children=true" : ""}`);
    a.download = `${title.replace(/[^\w.-]+/g, "_")}.zip`;
    a.textContent = extensions ? `Download (+${extensions} ext.)` : "Download";
    a.setAttribute("aria-label", extensions
      ? `Download ${title} with its ${extensions} extension${extensions > 1 ? "s" : ""} as one zip`
      : `Download ${title} as a zip`);
    row.append(a);
  }
  if ((stack.frame ?? 0) > 0) {
    // Its card on the Stack screen: frame strip, viewer, preview and coverage.
    row.append(button("Open", `Open ${title}`, () => onOpened(stack)));
  }
  if (RESUMABLE.has(stack.state)) {
    row.append(button("Resume", `Resume ${title}`, (ev) => run(ev.currentTarget, async () => {
      const job = await api(`stacks/${id}/resume`, { method: "POST", body: {} });
      onResumed(job);
      refreshStacks();
    }, { ok: "Stack resumed" })));
  }
  if (!RUNNING.has(stack.state)) {
    let armed = 0;
    const del = button("Delete", `Delete ${title}`, async (ev) => {
      const b = ev.currentTarget;
      if (!armed) {
        // A deleted stack cannot come back: ask for a second tap.
        b.textContent = "Tap to confirm";
        b.setAttribute("aria-label", `Confirm deleting ${title}`);
        armed = setTimeout(() => {
          armed = 0;
          b.textContent = "Delete";
          b.setAttribute("aria-label", `Delete ${title}`);
        }, CONFIRM_MS);
        return;
      }
      clearTimeout(armed);
      armed = 0;
      const done = await run(b, async () => {
        await api(`stacks/${id}`, { method: "DELETE" });
        return true;
      });
      if (done) {
        li.remove();
        toast(`Deleted ${title}`);
        $("stacks-empty").hidden = $("stack-list").children.length > 0;
      }
    }, "danger-outline");
    row.append(del);
  }
  li.append(head, meta, row);
  if ((stack.frame ?? 0) > 0) li.prepend(thumb(stack, title));
  return li;
}

export async function refreshStacks() {
  if (loading) return;
  loading = true;
  try {
    const stacks = await api("stacks");
    const list = Array.isArray(stacks) ? stacks : stacks?.stacks || stacks?.items || [];
    $("stack-list").replaceChildren(...list.map(item));
    $("stacks-empty").hidden = list.length > 0;
  } catch (err) {
    toast(describeError(err), { bad: true });
  } finally {
    loading = false;
  }
}

export function initStacks({ resumed, opened }) {
  onResumed = resumed;
  onOpened = opened;
  $("stacks-refresh").addEventListener("click", refreshStacks);
}
