// Entry point: theme, login, then the three screens (bench, stack, stacks) and the
// always-present stop bar.

import { initAids, setAidsActive } from "./aids.js";
import { onUnauthorized } from "./api.js";
import { TOKEN_LINK_REFUSED, checkSession, login, logout, takeLoginFromFragment } from "./auth.js";
import { initBench, markEnd, markStart } from "./bench.js";
import { initCamera, loadCameraSettings } from "./camera.js";
import { retryNow, startLink, stopLink } from "./link.js";
import { initLiveView, setLiveViewActive } from "./liveview.js";
import { initPlanForm, learnFrameSize, updateSummary } from "./plan-form.js";
import { initPresets, refreshPresets } from "./presets.js";
import { initResults } from "./results.js";
import { initRig } from "./rig.js";
import { initRun, onJobChange, restoreRun, showJob } from "./run.js";
import { initScan } from "./scan.js";
import { setSharpnessActive } from "./sharpness.js";
import { initStacks, refreshStacks } from "./stacks.js";
import { getState, onJobEvent, setState, subscribe } from "./store.js";
import { currentTab, initTabs, onTab, showTab } from "./tabs.js";
import { initTheme } from "./theme.js";
import { toast } from "./toast.js";
import { initZoom, resetZoom } from "./zoom.js";

const $ = (id) => document.getElementById(id);

// A physical button on the rig was pressed (or what it asked for was refused).
const BUTTON_NAMES = {
  estop: "E-stop button",
  stop: "Stop button",
  start: "Start button",
  jog_plus: "Jog + button",
  jog_minus: "Jog − button",
};
function toastControl(data) {
  if (!data) return;
  if (data.kind === "controls:refused") toast(`Rig button: ${data.message}`, { bad: true });
  else if (data.button === "estop") toast("E-stop button: halted, motor off", { bad: true });
  else if (BUTTON_NAMES[data.button]) toast(BUTTON_NAMES[data.button]);
  // encoder detents are too many to announce; the position shows them
}

let savedTab = "rig";
let bootRetry = null; // before login succeeds the link module is not running yet
let bootAttempt = 0;
let bootTimer = 0;
let wasOffline = false;
let appShown = false;

// ---- banner: "daemon unreachable — reconnecting" -------------------------------------

function renderBanner() {
  const { link, retryAt } = getState();
  if (link === "online" && wasOffline) {
    toast("Reconnected to the daemon.");
  }
  if (link === "online" || link === "unauthorized") wasOffline = false;
  if (link === "offline") wasOffline = true;
  const show = link === "offline" || (link === "connecting" && wasOffline);
  $("banner").hidden = !show;
  if (!show) return;
  const left = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  $("banner-text").textContent = link === "offline" && left > 0
    ? `Daemon unreachable — reconnecting in ${left} s`
    : "Daemon unreachable — reconnecting…";
}

setInterval(() => {
  if (getState().link === "offline") renderBanner();
}, 1000);

function retryBoot(fn) {
  bootRetry = fn;
  // Capped low: a daemon that restarts is back within seconds, and the phone should be too.
  const delay = Math.min(1000, 250 * 2 ** bootAttempt);
  bootAttempt += 1;
  setState({ link: "offline", retryAt: Date.now() + delay });
  clearTimeout(bootTimer);
  bootTimer = setTimeout(fn, delay);
}

// ---- screens ---------------------------------------------------------------------------

function updateLiveView(restart = false) {
  const s = getState();
  const want = s.authed && s.link === "online" && currentTab() === "rig" && document.visibilityState === "visible";
  setLiveViewActive(want, { restart });
  setSharpnessActive(want);
  setAidsActive(want);
  if (!want) resetZoom();
}

function showLogin(message) {
  stopLink();
  clearTimeout(bootTimer);
  bootRetry = null;
  appShown = false;
  setState({ authed: false, link: "unauthorized" });
  setLiveViewActive(false);
  $("app").hidden = true;
  $("controls").hidden = true;
  $("latch").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("login-error").hidden = !message;
  $("token-input").value = "";
  $("token-input").focus();
}

function showApp() {
  clearTimeout(bootTimer);
  bootRetry = null;
  bootAttempt = 0;
  appShown = true;
  setState({ authed: true });
  $("login").hidden = true;
  $("app").hidden = false;
  $("controls").hidden = false;
  startLink();
  restoreRun();
  showTab(savedTab);
}

// Each login attempt supersedes the one before: a late answer to an old attempt
// (say, a retry with a mistyped token) must not undo a newer success.
let bootGen = 0;

// `credential`: {token} or {pair}.
async function tryLogin(credential, gen = ++bootGen) {
  clearTimeout(bootTimer);
  setState({ link: getState().link === "offline" ? "offline" : "connecting" });
  const result = await login(credential);
  if (gen !== bootGen) return;
  if (result.ok) return showApp();
  if (result.reason === "unreachable") return retryBoot(() => tryLogin(credential, gen));
  showLogin(result.message);
}

// A login the URL fragment asked for; false when it asked for none.
function loginFromFragment(taken) {
  if (taken === null) return false;
  if (taken.pair) tryLogin({ pair: taken.pair });
  // An old token link: not used. A phone still logged in stays so; else say why not.
  else tryResume(++bootGen, TOKEN_LINK_REFUSED);
  return true;
}

async function tryResume(gen = ++bootGen, note = "") {
  clearTimeout(bootTimer);
  const session = await checkSession();
  if (gen !== bootGen) return;
  if (session === "authed") {
    if (note) toast(note, { ms: 8000 });
    return showApp();
  }
  if (session === "unauthorized") return showLogin(note);
  retryBoot(() => tryResume(gen, note));
}

// ---- wiring ----------------------------------------------------------------------------

function boot() {
  initTheme();
  savedTab = initTabs();
  initLiveView();
  initZoom();
  initAids();
  initRig({ keys: { s: markStart, e: markEnd } });
  initCamera();
  initResults({ extended: (job) => showJob(job) });
  initRun();
  initPlanForm({
    started: (job) => {
      showJob(job);
      window.scrollTo({ top: 0, behavior: "smooth" });
    },
  });
  initBench();
  initPresets();
  initScan();
  initStacks({
    resumed: (job) => {
      showJob(job);
      showTab("stack");
    },
    opened: (stack) => {
      showJob(stack);
      showTab("stack");
      window.scrollTo({ top: 0 });
    },
  });

  onTab((tab) => {
    updateLiveView();
    if (tab === "stacks") refreshStacks();
    if (tab === "stack") {
      updateSummary();
      learnFrameSize();
      refreshPresets();
    }
    if (tab === "rig" && $("camera-details").open) loadCameraSettings();
  });
  onJobChange(() => {
    if (currentTab() === "stacks") refreshStacks();
  });
  let lastLink = getState().link;
  subscribe((state, patch) => {
    if ("link" in patch || "retryAt" in patch) renderBanner();
    // Every status event says "online"; only a change of link may reopen the stream.
    if ("link" in patch && state.link !== lastLink) {
      lastLink = state.link;
      updateLiveView(state.link === "online");
    }
  });
  document.addEventListener("visibilitychange", () => updateLiveView(true));
  onJobEvent((kind, data) => {
    // Latched faults also show in the latch bar; this says what just happened.
    const message = data?.message || data?.fault?.message;
    if (kind === "fault" && message) toast(`Fault: ${message}`, { bad: true, ms: 8000 });
    if (kind === "controls") toastControl(data);
  });
  onUnauthorized(() => {
    if (appShown) showLogin("Your session has ended. Log in again with the token.");
  });

  $("banner-retry").addEventListener("click", () => {
    if (bootRetry) {
      bootAttempt = 0;
      clearTimeout(bootTimer);
      bootRetry();
    } else {
      retryNow();
    }
  });
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    tryLogin({ token: $("token-input").value.trim() });
  });
  $("logout").addEventListener("click", async () => {
    await logout();
    showLogin("Logged out.");
  });

  // A login link opened while the page is already showing only changes the fragment.
  window.addEventListener("hashchange", () => {
    const fresh = takeLoginFromFragment();
    if (fresh !== null) {
      stopLink();
      loginFromFragment(fresh);
    }
  });

  if (!loginFromFragment(takeLoginFromFragment(true))) tryResume();
}

boot();
