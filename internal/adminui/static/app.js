// Ponte operator page. Plain JS, no build step. Every value from the API is untrusted
// (payloads come from ERPs and platforms), so all of it goes in through textContent and
// DOM calls, never parsed as HTML markup.
"use strict";

const KEY = "ponte.operatorKey";
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

// el builds an element; attrs are plain attributes (never event handlers), children are
// nodes or strings (strings become text nodes).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = String(v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c));
  return node;
}

// ---- formatting

function age(seconds) {
  if (seconds === undefined || seconds === null || seconds < 0) return "unknown";
  if (seconds < 60) return Math.round(seconds) + " s";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 86400) return (seconds / 3600).toFixed(1).replace(/\.0$/, "") + " h";
  return (seconds / 86400).toFixed(1).replace(/\.0$/, "") + " d";
}

function when(iso) {
  if (!iso || iso.startsWith("0001-")) return el("span", { class: "muted", text: "—" });
  const d = new Date(iso);
  if (isNaN(d)) return el("span", { text: iso });
  const ago = (Date.now() - d.getTime()) / 1000;
  return el("time", { datetime: iso, title: d.toISOString(), text: d.toLocaleString() + (ago >= 0 ? " (" + age(ago) + " ago)" : "") });
}

function money(m) {
  return m ? m.amount + " " + (m.currency || "") : "—";
}

function num(n) {
  return n === undefined || n === null ? "—" : String(n);
}

function badge(text, kind) {
  return el("span", { class: "badge " + (kind || ""), text: text || "—" });
}

function table(headers, rows, caption) {
  return el("table", {},
    caption ? el("caption", { text: caption }) : null,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", r.attrs || {}, r.cells.map((c) => el("td", {}, c))))));
}

function empty(text) {
  return el("p", { class: "empty", text });
}

// ---- API

class APIError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

// api calls the hub with the operator key. A 401 signs out with the hub's message.
async function api(method, path, body) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new APIError(401, "not signed in");
  const init = { method, headers: { Authorization: "Bearer " + key, Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new APIError(0, "the hub is unreachable: " + err.message);
  }
  let data = null;
  try {
    data = await res.json();
  } catch (_) {
    data = null;
  }
  if (res.ok) return data;
  const msg = (data && data.error) || res.status + " " + res.statusText;
  if (res.status === 401) {
    signOut("The hub refused the key: " + msg);
  }
  throw new APIError(res.status, msg, data && data.field);
}

// optional turns "the route does not exist here" into null, so a section can say so.
async function optional(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err.status === 404 || err.status === 405) return null;
    throw err;
  }
}

const NOT_AVAILABLE = "Not available on this hub.";

// ---- messages

let flashTimer = 0;
function flash(text, kind) {
  const f = $("flash");
  f.className = "flash " + (kind || "success");
  f.textContent = text;
  f.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { f.hidden = true; }, 15000);
}

function failMessage(what, err) {
  return what + " failed: " + (err.field ? err.field + ": " : "") + err.message;
}

// ---- sign-in

function signOut(message) {
  sessionStorage.removeItem(KEY);
  stopRefresh();
  $("app").hidden = true;
  $("session").hidden = true;
  $("signin").hidden = false;
  const e = $("signin-error");
  e.textContent = message || "";
  e.hidden = !message;
  $("key").value = "";
  $("key").focus();
}

function showApp() {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("session").hidden = false;
  connectionsKey = "";
  reportsKey = "";
  refresh();
  startRefresh();
}

// ---- refresh loop

let timer = 0;
let refreshing = false;
let again = false; // a refresh asked for while one runs (after a retry) runs right after it
function startRefresh() {
  stopRefresh();
  timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
}
function stopRefresh() {
  clearInterval(timer);
  timer = 0;
}

async function refresh() {
  if (!sessionStorage.getItem(KEY)) return;
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    const results = await Promise.allSettled([loadConnections(), loadQueues(), loadFailures(), loadOrders(), loadReports()]);
    if (!sessionStorage.getItem(KEY)) return; // a 401 signed us out
    const bad = results.find((r) => r.status === "rejected");
    if (bad) flash("Refresh failed: " + bad.reason.message, "error");
    $("updated").textContent = new Date().toLocaleTimeString();
    $("updated").setAttribute("datetime", new Date().toISOString());
  } finally {
    refreshing = false;
  }
  if (again) {
    again = false;
    refresh();
  }
}

// ---- connections (shared by the filters and the Connections section)

let connections = [];   // [{id, platform, enabled}]
let connectionsKey = ""; // what was rendered, so open tools survive a refresh

async function loadConnections() {
  let list = await optional(api("GET", "/v1/admin/connections"));
  const note = $("connections-note");
  if (list === null) {
    // Older hubs: the queue view still names the tenant's connections.
    const q = await api("GET", "/v1/admin/queues");
    connections = (q.connections || []).map((c) => ({ id: c.connection, platform: "", enabled: null }));
    note.textContent = "The connection list is " + NOT_AVAILABLE.toLowerCase() + " Showing connections named by the queues.";
    note.hidden = false;
  } else {
    connections = list.connections || [];
    note.hidden = true;
  }
  for (const sel of document.querySelectorAll(".conn-select")) {
    const cur = sel.value;
    clear(sel, el("option", { value: "", text: "all" }), connections.map((c) => el("option", { value: c.id, text: c.id })));
    sel.value = connections.some((c) => c.id === cur) ? cur : "";
  }
  const key = JSON.stringify(connections);
  if (key !== connectionsKey) {
    connectionsKey = key;
    renderConnections();
  }
}

// ---- queues

async function loadQueues() {
  const q = await api("GET", "/v1/admin/queues");
  $("queues-note").textContent = q.note || "";
  const rows = (q.queues || []).map((x) => ({
    attrs: { class: x.tenant_dead > 0 ? "bad" : "" },
    cells: [x.name, num(x.waiting), num(x.in_flight), x.dead > 0 ? badge(num(x.dead), "bad") : num(x.dead),
      num(x.tenant_dead), x.waiting > 0 ? age(x.oldest_age_s) : "—"],
  }));
  const conns = (q.connections || []).map((c) => ({
    attrs: { class: c.dead > 0 ? "bad" : "" },
    cells: [c.connection, c.dead > 0 ? badge(String(c.dead), "bad") : "0",
      Object.entries(c.dead_by_queue || {}).map(([k, v]) => k + ": " + v).join(", ") || "—"],
  }));
  clear($("queues-body"),
    rows.length ? table(["Queue", "Waiting", "In flight", "Dead (all tenants)", "Dead (yours)", "Oldest waiting"], rows) : empty("No queues configured."),
    el("h3", { text: "Dead letters per connection" }),
    conns.length ? table(["Connection", "Dead", "By queue"], conns) : empty("No connections."));
}

// ---- failures

const openPayloads = new Set(); // failure ids whose payload is unfolded, kept across refreshes

async function loadFailures() {
  const fl = await api("GET", "/v1/admin/failures");
  const list = fl.failures || [];
  $("failures-empty").hidden = list.length > 0;
  const groups = new Map();
  for (const f of list) {
    const c = f.connection || "";
    if (!groups.has(c)) groups.set(c, []);
    groups.get(c).push(f);
  }
  const body = [];
  for (const [conn, items] of groups) {
    const head = el("div", { class: "group-head" },
      el("h3", { text: (conn ? "Connection " + conn : "No connection") + " · " + items.length + " failed" }));
    if (conn) {
      const all = el("button", { type: "button", class: "retry-all", text: "Retry all for this connection" });
      all.addEventListener("click", () => retry({ connection: conn }, all));
      head.append(all);
    }
    body.push(head, el("ul", { class: "failures" }, items.map(failureRow)));
  }
  if (fl.truncated) body.push(el("p", { class: "note", text: "Showing the newest " + list.length + "; more exist." }));
  clear($("failures-body"), body);
}

function failureRow(f) {
  const subject = [["SKU", f.sku], ["order", f.order], ["customer", f.customer], ["delivery", f.delivery], ["endpoint", f.endpoint]]
    .filter(([, v]) => v).map(([k, v]) => k + " " + v).join(" · ") || "—";
  const details = el("details", { open: openPayloads.has(f.id) },
    el("summary", { text: "Payload" }),
    el("pre", { text: JSON.stringify(f.payload, null, 2) }));
  details.addEventListener("toggle", () => details.open ? openPayloads.add(f.id) : openPayloads.delete(f.id));
  const btn = el("button", { type: "button", class: "retry", text: "Retry", "aria-label": "Retry " + subject });
  btn.addEventListener("click", () => retry({ queue: f.queue, ids: [f.id] }, btn));
  return el("li", { class: "failure", "data-id": f.id },
    el("p", { class: "reason", text: f.reason || "no reason recorded" }),
    el("dl", { class: "facts" },
      el("dt", { text: "Subject" }), el("dd", { text: subject }),
      el("dt", { text: "Queue" }), el("dd", { text: f.queue + (f.kind ? " (" + f.kind + ")" : "") }),
      el("dt", { text: "Attempts" }), el("dd", { text: num(f.attempts) }),
      el("dt", { text: "Dead since" }), el("dd", {}, when(f.dead_at))),
    details, btn);
}

async function retry(request, button) {
  button.disabled = true;
  try {
    const r = await api("POST", "/v1/admin/failures/retry", request);
    flash(r.moved + " moved back to the queue", "success");
  } catch (err) {
    if (err.status !== 401) flash(failMessage("Retry", err), "error");
  } finally {
    button.disabled = false;
  }
  refresh();
}

// ---- orders

async function loadOrders() {
  const f = new FormData($("orders-filter"));
  const qs = new URLSearchParams();
  for (const k of ["connection", "state"]) if (f.get(k)) qs.set(k, f.get(k));
  qs.set("limit", "50");
  const rep = await api("GET", "/v1/admin/orders?" + qs);
  const orders = rep.orders || [];
  $("orders-summary").textContent = Object.entries(rep.summary || {}).map(([k, v]) => v + " " + k).join(" · ");
  const kind = { accepted: "good", rejected: "bad", waiting: "warn", cancelled: "" };
  clear($("orders-body"), orders.length ? table(
    ["Created", "Connection", "Platform order", "State", "Platform status", "Total", "ERP hand-off", "Why rejected"],
    orders.map((o) => ({
      attrs: { class: o.state === "rejected" ? "bad" : "" },
      cells: [when(o.created_at), o.connection, o.platform + " " + o.platform_id + (o.number ? " (#" + o.number + ")" : ""),
        badge(o.state, kind[o.state]), o.platform_status || "—", orderTotal(o), erpHandOff(o), rejections(o.rejections)],
    }))) : empty("No orders match."));
}

// orderTotal shows the platform's total, and a warning with the difference when it does
// not add up from its parts.
function orderTotal(o) {
  const t = o.total && o.total.amount ? o.total.amount + " " + (o.total.currency || "") : "—";
  if (!o.total_mismatch) return t;
  return el("span", { class: "total-mismatch" }, t, " ", badge("check the amounts", "warn"),
    el("span", { class: "muted", text: " " + o.total_mismatch }));
}

function erpHandOff(o) {
  switch (o.erp_state) {
    case "registered": return badge("registered" + (o.erp_number ? " as " + o.erp_number : ""), "good");
    case "refused": return el("span", {}, badge("refused", "bad"), " ", o.erp_reason || "");
    case "pending": return badge("waiting for the ERP", "warn");
    case "withdrawn": return el("span", { class: "muted", text: "withdrawn (cancelled before the ERP took it)" });
    default: return el("span", { class: "muted", text: "not offered" });
  }
}

function rejections(list) {
  if (!list || !list.length) return "—";
  return el("ul", { class: "plain" }, list.map((r) =>
    el("li", {}, (r.line ? "line " + r.line + " · " : "") + (r.sku ? r.sku + ": " : ""), el("strong", { text: r.message }),
      el("span", { class: "muted", text: " (" + r.code + ")" }))));
}

// ---- reports

let reportsKey = ""; // what was rendered, so an "Add code" form being filled in survives a refresh

async function loadReports() {
  const f = new FormData($("reports-filter"));
  const qs = new URLSearchParams({ kind: f.get("kind") || "reconcile", limit: "10" });
  if (f.get("connection")) qs.set("connection", f.get("connection"));
  const rep = await api("GET", "/v1/admin/reports?" + qs);
  const jobs = rep.reports || [];
  const key = qs + JSON.stringify(jobs);
  if (key === reportsKey) return;
  reportsKey = key;
  clear($("reports-body"), jobs.length ? jobs.map(reportCard) : empty("No " + qs.get("kind").replace("_", " ") + " runs yet."));
}

function reportCard(j) {
  const r = j.report || {};
  // A first sync reports per section (products, customers); a reconcile at the top level.
  const p = j.kind === "first_sync" && r.products ? r.products : r;
  const counts = Object.entries(p).filter(([, v]) => typeof v === "number");
  const status = { done: "good", failed: "bad", running: "warn" }[j.status] || "";
  const progress = j.total > 0 ? el("progress", { max: j.total, value: j.done, "aria-label": "progress" }) : el("progress", { "aria-label": "progress" });
  const card = el("article", { class: "job" },
    el("h3", {}, (j.kind === "first_sync" ? "First sync" : "Reconcile") + " · " + j.connection_id + " ", badge(j.status, status),
      j.dry_run ? badge("dry run", "") : null),
    el("div", { class: "progress" }, progress, el("span", { text: j.done + " / " + (j.total || "?") })),
    el("dl", { class: "facts" },
      el("dt", { text: "Started" }), el("dd", {}, when(j.started_at)),
      el("dt", { text: "Finished" }), el("dd", {}, when(j.finished_at))),
    j.error || r.last_error ? el("p", { class: "error", text: j.error || r.last_error }) : null,
    counts.length ? el("dl", { class: "counts" }, counts.flatMap(([k, v]) => [el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: String(v) })])) : null);
  if (j.kind === "first_sync") {
    const list = (name) => p[name + "_items"] || (Array.isArray(p[name]) ? p[name] : []);
    card.append(matchList("Ambiguous", list("ambiguous"), true), matchList("Unmatched", list("unmatched"), false));
    if (r.customers) {
      card.append(el("h4", { text: "Customers" }), el("dl", { class: "counts" }, Object.entries(r.customers)
        .filter(([, v]) => typeof v === "number").flatMap(([k, v]) => [el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: String(v) })])));
    }
  } else {
    for (const k of ["drifted_skus", "failed_skus", "unmapped_items"]) {
      if (Array.isArray(r[k]) && r[k].length) card.append(el("p", { class: "note", text: k.replace(/_/g, " ") + ": " + r[k].join(", ") }));
    }
    if (Array.isArray(r.held_skus) && r.held_skus.length) {
      card.append(el("ul", { class: "plain" }, r.held_skus.map((h) => el("li", { text: "held " + h.sku + ": " + h.reason }))));
    }
  }
  return card;
}

// matchList renders a first-sync list. Items are platform products (objects or plain
// strings); ambiguous ones carry candidate ERP SKUs. Each gets "add a code" so the
// operator can make the next sync match it.
function matchList(title, items, ambiguous) {
  const wrap = el("div", { class: "matches" }, el("h4", { text: title + " (" + (items ? items.length : 0) + ")" }));
  if (!Array.isArray(items) || !items.length) {
    wrap.append(empty("None."));
    return wrap;
  }
  wrap.append(el("ul", { class: "plain" }, items.map((it) => {
    const o = typeof it === "object" && it !== null ? it : { sku: String(it) };
    const label = [o.name, o.sku && "SKU " + o.sku, o.ean && "EAN " + o.ean, o.product_id && "product " + o.product_id,
      o.variant_id && "variant " + o.variant_id, o.code && "code " + o.code, o.reason, o.error].filter(Boolean).join(" · ");
    const candidates = (o.candidates || o.matches || []).map((c) => typeof c === "string" ? c : c.sku).filter(Boolean);
    return el("li", {}, el("span", { text: label || JSON.stringify(o) }),
      ambiguous && candidates.length ? el("span", { class: "muted", text: " — candidates: " + candidates.join(", ") }) : null,
      addCodeForm(o.code || o.ean || o.sku || "", candidates));
  })));
  return wrap;
}

let formSeq = 0;
function addCodeForm(code, candidates) {
  const n = ++formSeq;
  const skuInput = candidates.length
    ? el("select", { id: "ac-sku-" + n, name: "sku", required: true }, candidates.map((c) => el("option", { value: c, text: c })))
    : el("input", { id: "ac-sku-" + n, name: "sku", required: true, placeholder: "ERP SKU" });
  const codeInput = el("input", { id: "ac-code-" + n, name: "code", required: true, value: code });
  const out = el("span", { class: "result", "aria-live": "polite" });
  const form = el("form", { class: "inline" },
    el("label", { for: "ac-sku-" + n, text: "ERP product" }), skuInput,
    el("label", { for: "ac-code-" + n, text: "gets code" }), codeInput,
    el("button", { type: "submit", text: "Add code" }), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await optional(api("POST", "/v1/admin/products/" + encodeURIComponent(skuInput.value) + "/codes", { code: codeInput.value }));
      out.className = r ? "result ok" : "result error";
      out.textContent = r ? "Added. " + r.sku + " now has codes: " + (r.additional_codes || []).join(", ") : NOT_AVAILABLE;
    } catch (err) {
      out.className = "result error";
      out.textContent = failMessage("Adding the code", err);
    }
  });
  return form;
}

// ---- connection tools

function renderConnections() {
  const body = $("connections-body");
  if (!connections.length) {
    clear(body, empty("No connections."));
    return;
  }
  clear(body, connections.map((c) => {
    const out = el("div", { class: "tool-out", "aria-live": "polite" });
    const tools = [
      ["Start first sync", () => startFirstSync(c, out)],
      ["Unmapped SKUs", () => unmapped(c, out, "")],
      ["Dry run", () => dryRunForm(c, out)],
      ["Trace a SKU", () => traceForm(c, out)],
    ].map(([label, fn]) => {
      const b = el("button", { type: "button", class: "secondary", text: label });
      b.addEventListener("click", fn);
      return b;
    });
    return el("article", { class: "conn" },
      el("h3", {}, c.id + " ", c.platform ? badge(c.platform, "") : null,
        c.enabled === null ? null : badge(c.enabled ? "enabled" : "disabled", c.enabled ? "good" : "warn")),
      el("div", { class: "tools" }, tools), out);
  }));
}

async function startFirstSync(c, out) {
  try {
    const r = await optional(api("POST", "/v1/admin/connections/" + encodeURIComponent(c.id) + "/first-sync", {}));
    if (!r) return clear(out, el("p", { class: "error", text: "First sync is " + NOT_AVAILABLE.toLowerCase() }));
    clear(out, el("p", { class: "ok", text: "First sync started" + (r.job && r.job.id ? " (job " + r.job.id + ")" : "") + ". Progress shows under Reports." }));
    $("reports-filter").elements.kind.value = "first_sync";
    refresh();
  } catch (err) {
    clear(out, el("p", { class: "error", text: failMessage("Starting the first sync", err) }));
  }
}

async function unmapped(c, out, cursor) {
  try {
    const qs = new URLSearchParams({ limit: "50" });
    if (cursor) qs.set("cursor", cursor);
    const r = await optional(api("GET", "/v1/admin/connections/" + encodeURIComponent(c.id) + "/unmapped?" + qs));
    if (!r) return clear(out, el("p", { class: "error", text: "The unmapped list is " + NOT_AVAILABLE.toLowerCase() }));
    const skus = r.skus || [];
    const more = r.next_cursor ? el("button", { type: "button", class: "secondary", text: "More" }) : null;
    if (more) more.addEventListener("click", () => unmapped(c, out, r.next_cursor));
    clear(out, el("h4", { text: "ERP SKUs not mapped on " + c.id }),
      skus.length ? table(["SKU", "Name", "EAN"], skus.map((s) => ({ cells: [s.sku, s.name || "—", s.ean || "—"] }))) : empty("Every SKU is mapped."),
      more);
  } catch (err) {
    clear(out, el("p", { class: "error", text: failMessage("Listing unmapped SKUs", err) }));
  }
}

function dryRunForm(c, out) {
  const n = ++formSeq;
  const rules = el("textarea", { id: "dr-rules-" + n, rows: 3, spellcheck: "false" });
  rules.value = '{"markup_pct": "12"}';
  const skus = el("input", { id: "dr-skus-" + n, placeholder: "empty: the store's catalogue" });
  const res = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "stack" },
    el("label", { for: "dr-rules-" + n, text: "Rules to change (JSON, merged over the connection's rules)" }), rules,
    el("label", { for: "dr-skus-" + n, text: "SKUs (comma separated)" }), skus,
    el("button", { type: "submit", text: "Run dry run" }), res);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let partial;
    try {
      partial = JSON.parse(rules.value);
    } catch (err) {
      return clear(res, el("p", { class: "error", text: "The rules are not valid JSON: " + err.message }));
    }
    const qs = new URLSearchParams();
    for (const s of skus.value.split(",").map((x) => x.trim()).filter(Boolean)) qs.append("sku", s);
    try {
      const r = await api("POST", "/v1/admin/connections/" + encodeURIComponent(c.id) + "/dry-run?" + qs, partial);
      clear(res, el("p", { class: "note", text: r.changed + " would change, " + r.would_push + " would be pushed (nothing was written)." }),
        table(["SKU", "Now", "Would be", "Pushes", "Note"], (r.items || []).map((it) => ({
          attrs: { class: it.changed ? "changed" : "" },
          cells: [it.sku, values(it.current), values(it.would_be), it.pending.join(", ") || "—", [it.skip, it.held].filter(Boolean).join("; ") || "—"],
        }))));
    } catch (err) {
      clear(res, el("p", { class: "error", text: failMessage("The dry run", err) }));
    }
  });
  clear(out, el("h4", { text: "Dry run on " + c.id }), form);
  rules.focus();
}

function values(v) {
  return v ? "stock " + num(v.stock) + ", price " + money(v.price) : "—";
}

function traceForm(c, out) {
  const n = ++formSeq;
  const sku = el("input", { id: "tr-sku-" + n, required: true });
  const res = el("div", { "aria-live": "polite" });
  const form = el("form", { class: "inline" },
    el("label", { for: "tr-sku-" + n, text: "SKU" }), sku, el("button", { type: "submit", text: "Trace" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const t = await api("GET", "/v1/admin/connections/" + encodeURIComponent(c.id) + "/skus/" + encodeURIComponent(sku.value.trim()) + "/trace");
      clear(res,
        el("p", {}, t.in_sync ? badge("in sync", "good") : badge("not in sync", "bad"),
          t.fanout_behind ? badge("fan-out behind", "warn") : null,
          t.platform_error ? el("span", { class: "error", text: " " + t.platform_error }) : null),
        table(["When", "Step", "What"], (t.steps || []).map((s) => ({ cells: [when(s.at), s.step.replace(/_/g, " "), s.detail] }))));
    } catch (err) {
      clear(res, el("p", { class: "error", text: failMessage("The trace", err) }));
    }
  });
  clear(out, el("h4", { text: "Trace a SKU on " + c.id }), form, res);
  sku.focus();
}

// ---- start

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    $("signin-error").hidden = true;
    showApp();
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("refresh").addEventListener("click", () => refresh());
  $("orders-filter").addEventListener("change", () => loadOrders().catch((err) => flash(failMessage("Loading orders", err), "error")));
  $("reports-filter").addEventListener("change", () => loadReports().catch((err) => flash(failMessage("Loading reports", err), "error")));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  if (sessionStorage.getItem(KEY)) showApp();
  else signOut("");
});
