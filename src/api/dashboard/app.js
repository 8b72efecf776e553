// The driftmgr dashboard: plain DOM, no framework, no inline script (the API's CSP
// allows only 'self'). Every value from the API goes into the page as text, never as
// HTML. The session lives in HttpOnly cookies; writes echo the CSRF cookie.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { user: null, roles: [], view: "scans", scan: null, plan: null, lastVersion: null, socket: null };

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

async function call(method, path, body, retried) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("driftmgr_csrf");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried && path !== "/api/v1/auth/refresh") {
    const refreshed = await fetch("/api/v1/auth/refresh", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": cookie("driftmgr_csrf") },
    });
    if (refreshed.ok) return call(method, path, body, true);
    showLogin();
    throw new Error("the session has ended");
  }
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || response.statusText);
  return data;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function when(text) {
  return text ? new Date(text).toLocaleString() : "never";
}

function trend(history) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "trend");
  svg.setAttribute("width", "80");
  svg.setAttribute("height", "20");
  const totals = (history || []).map((h) => h.modified + h.missing + h.unmanaged);
  if (totals.length > 0) {
    const top = Math.max(1, ...totals);
    const step = totals.length > 1 ? 78 / (totals.length - 1) : 0;
    const points = totals.map((t, i) => `${1 + i * step},${19 - (t / top) * 18}`).join(" ");
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", totals.length > 1 ? points : `1,${19 - (totals[0] / top) * 18} 79,${19 - (totals[0] / top) * 18}`);
    svg.append(line);
    svg.append(Object.assign(document.createElementNS("http://www.w3.org/2000/svg", "title"), { textContent: totals.join(" → ") }));
  }
  return svg;
}

function count(n) {
  return el("td", { class: n > 0 ? "num drift" : "num" }, n);
}

async function loadScans() {
  const list = await call("GET", "/api/v1/scans?limit=500");
  const scans = await Promise.all(list.items.map((s) => call("GET", `/api/v1/scans/${s.namespace}/${s.name}`).catch(() => null)));
  fill($("scans").tBodies[0], list.items.map((s, i) => {
    const key = `${s.namespace}/${s.name}`;
    const history = scans[i] && scans[i].status ? scans[i].status.history : [];
    return el("tr", { class: "clickable" + (state.scan === key ? " selected" : ""), "data-scan": key, onclick: () => openReport(s.namespace, s.name) },
      el("td", {}, key), el("td", {}, s.account), el("td", { class: `phase-${s.phase}` }, s.phase || "Pending"),
      count(s.modified), count(s.missing), count(s.unmanaged), el("td", {}, trend(history)), el("td", {}, when(s.lastScanTime)));
  }));
  if (state.scan) openReport(...state.scan.split("/"), true);
}

async function openReport(namespace, name, keepItem) {
  state.scan = `${namespace}/${name}`;
  for (const row of $("scans").tBodies[0].rows) row.classList.toggle("selected", row.dataset.scan === state.scan);
  $("report").hidden = false;
  $("report-title").textContent = `Drift of ${state.scan}`;
  let report;
  try {
    report = await call("GET", `/api/v1/scans/${namespace}/${name}/report?limit=500`);
  } catch (error) {
    fill($("items").tBodies[0], [el("tr", {}, el("td", { colspan: "5" }, error.message))]);
    return;
  }
  $("report-title").textContent = `Drift of ${state.scan} (report ${report.generation}, ${report.total} items)`;
  fill($("items").tBodies[0], report.items.map((item) => el("tr", { class: "clickable", "data-item": item.id, onclick: () => openItem(item) },
    el("td", {}, item.kind), el("td", {}, item.severity), el("td", {}, item.type), el("td", {}, el("code", {}, item.id)),
    el("td", { class: "num" }, (item.changes || []).length))));
  if (!keepItem) $("item").hidden = true;
}

function openItem(item) {
  $("item").hidden = false;
  $("item-title").textContent = `${item.kind}: ${item.type} ${item.id}`;
  const changes = item.changes || [];
  fill($("changes").tBodies[0], changes.length === 0
    ? [el("tr", {}, el("td", { colspan: "3" }, item.kind === "Unmanaged" ? "not in any state" : "gone from the cloud"))]
    : changes.map((c) => el("tr", { "data-path": c.path }, el("td", {}, el("code", {}, c.path)),
      el("td", { class: "expected" }, c.expected ?? "(none)"), el("td", { class: "actual" }, c.actual ?? "(none)"))));
}

const RISKS = ["Safe", "Disruptive", "Destructive"];

function planRisk(plan) {
  const risks = ((plan.status || {}).results || []).map((r) => r.risk).filter(Boolean);
  return risks.sort((a, b) => RISKS.indexOf(b) - RISKS.indexOf(a))[0] || "";
}

function mayApprove() {
  return state.roles.includes("approver") || state.roles.includes("admin");
}

async function decide(namespace, name, verb) {
  try {
    await call("POST", `/api/v1/plans/${namespace}/${name}/${verb}`, {});
    note(`${verb === "approve" ? "approved" : "rejected"} ${namespace}/${name}`);
  } catch (error) {
    note(`could not ${verb} ${namespace}/${name}: ${error.message}`);
  }
  loadPlans();
}

async function loadPlans() {
  const list = await call("GET", "/api/v1/plans?limit=500");
  const plans = await Promise.all(list.items.map((p) => call("GET", `/api/v1/plans/${p.namespace}/${p.name}`).catch(() => null)));
  fill($("plans").tBodies[0], list.items.map((p, i) => {
    const key = `${p.namespace}/${p.name}`;
    const full = plans[i] || { spec: {}, status: {} };
    const actions = (full.spec.actions || []).length;
    const buttons = el("td", {});
    if (mayApprove() && p.phase === "AwaitingApproval") {
      buttons.append(
        el("button", { class: "approve", "data-approve": key, onclick: (e) => { e.stopPropagation(); decide(p.namespace, p.name, "approve"); } }, "Approve"), " ",
        el("button", { class: "reject", "data-reject": key, onclick: (e) => { e.stopPropagation(); decide(p.namespace, p.name, "reject"); } }, "Reject"));
    }
    return el("tr", { class: "clickable" + (state.plan === key ? " selected" : ""), "data-plan": key, onclick: () => openPlan(full, key) },
      el("td", {}, key), el("td", {}, p.scan), el("td", { class: `phase phase-${p.phase}` }, p.phase || "Pending"),
      el("td", { class: "num" }, actions), el("td", {}, planRisk(full)),
      el("td", { class: "approvals" }, `${p.approvals} / ${p.required}`), buttons);
  }));
  if (state.plan) {
    const index = list.items.findIndex((p) => `${p.namespace}/${p.name}` === state.plan);
    if (index >= 0 && plans[index]) openPlan(plans[index], state.plan);
  }
}

function openPlan(plan, key) {
  state.plan = key;
  $("plan").hidden = false;
  $("plan-title").textContent = `${key}: ${plan.spec.mode || "DryRun"}, ${(plan.status || {}).phase || "Pending"}`;
  const results = new Map(((plan.status || {}).results || []).map((r) => [r.id, r]));
  fill($("actions").tBodies[0], (plan.spec.actions || []).map((a) => {
    const result = results.get(a.id) || {};
    const changes = (result.changes || []).map((c) => `${c.path}: ${c.actual ?? "(none)"} → ${c.expected ?? "(none)"}`).join("; ");
    return el("tr", {}, el("td", {}, a.id), el("td", {}, a.type), el("td", {}, el("code", {}, `${a.target.type} ${a.target.id}`)),
      el("td", {}, result.risk || ""), el("td", { class: "state" }, result.state || "Pending"), el("td", {}, changes));
  }));
}

async function loadAccounts() {
  const list = await call("GET", "/api/v1/accounts?limit=500");
  fill($("accounts").tBodies[0], list.items.map((a) => el("tr", {},
    el("td", {}, `${a.namespace}/${a.name}`), el("td", {}, a.provider), el("td", {}, a.accountId || ""), el("td", {}, a.ready || "Unknown"))));
}

function note(text) {
  $("feed").prepend(el("li", {}, `${new Date().toLocaleTimeString()} ${text}`));
  while ($("feed").children.length > 20) $("feed").lastChild.remove();
}

function show(view) {
  state.view = view;
  for (const button of document.querySelectorAll("button.tab")) button.classList.toggle("active", button.dataset.view === view);
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.id !== `view-${view}`;
  refresh();
}

function refresh() {
  const loaders = { scans: loadScans, plans: loadPlans, accounts: loadAccounts };
  loaders[state.view]().catch((error) => note(error.message));
}

// Live updates: every event refreshes what is on screen. A reconnect resumes after
// the last event seen; "Expired" means some were missed, so everything is reloaded.
function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const resume = state.lastVersion ? `?resourceVersion=${encodeURIComponent(state.lastVersion)}` : "";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/events${resume}`);
  state.socket = socket;
  socket.onopen = () => { $("live").className = "live on"; };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.resourceVersion) state.lastVersion = event.resourceVersion;
    note(event.type === "Expired" ? "reloaded (events were missed)" : `${event.type} ${event.namespace}/${event.name}${event.detail && event.detail.phase ? " → " + event.detail.phase : ""}`);
    refresh();
  };
  socket.onclose = () => {
    $("live").className = "live off";
    if (state.user && state.socket === socket) setTimeout(follow, 2000);
  };
}

function showLogin() {
  state.user = null;
  $("login-form").hidden = false;
  $("nav").hidden = true;
  $("who").hidden = true;
  for (const section of document.querySelectorAll("section.view")) section.hidden = true;
}

async function enter(me) {
  state.user = me.user;
  state.roles = me.roles;
  $("user").textContent = `${me.user} (${me.roles.join(", ")})`;
  $("login-form").hidden = true;
  $("nav").hidden = false;
  $("who").hidden = false;
  show(state.view);
  follow();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    await call("POST", "/api/v1/auth/login", { username: $("username").value, password: $("password").value, session: "cookie" }, true);
    $("password").value = "";
    enter(await call("GET", "/api/v1/auth/me"));
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  const socket = state.socket;
  state.socket = null;
  if (socket) socket.close();
  await call("POST", "/api/v1/auth/logout", undefined, true).catch(() => {});
  showLogin();
});

for (const button of document.querySelectorAll("button.tab")) button.addEventListener("click", () => show(button.dataset.view));

call("GET", "/api/v1/auth/me").then(enter).catch(showLogin);
