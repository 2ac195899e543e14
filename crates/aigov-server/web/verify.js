// The public verification page: sends the chosen file to POST /v1/labels/verify and shows the
// answer. Everything from the file (label fields, names) is inserted as text, never as HTML.
"use strict";

const OUTCOMES = {
  labelled: ["已标识为人工智能生成", "Labelled as AI-generated"],
  possibly_ai: ["可能为人工智能生成", "Possibly AI-generated"],
  suspected_ai: ["疑似人工智能生成", "Suspected AI-generated"],
  no_label: ["未发现人工智能生成标识", "No AI label found"],
};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function signerRow(role, s) {
  const who = s.system_name ? `${s.system_name} (${s.filing_number || "?"})` : `${s.code} (unregistered key)`;
  const reg = s.registry ? s.registry.status : "";
  return el("tr", {}, el("td", {}, role), el("td", { class: "who" }, who), el("td", {}, s.id), el("td", { class: "registry" }, reg));
}

function render(out, v) {
  const r = v.report;
  const [zh, en] = OUTCOMES[r.outcome] || [r.outcome, r.outcome];
  const ok = v.verified;
  const trust = ok ? "签名可信 · signature trusted" : (r.producer ? "签名未通过核验 · signature not trusted" : "");
  out.replaceChildren(
    el("div", { class: "verdict " + (ok ? "ok" : (r.outcome === "no_label" ? "" : "bad")), id: "verdict", "data-outcome": r.outcome, "data-verified": String(ok) },
      `${zh} · ${en}`, trust ? el("br") : "", trust),
  );
  const signers = [];
  if (r.producer) signers.push(signerRow("生成者 · producer", r.producer));
  for (const p of r.propagation || []) signers.push(signerRow("传播者 · platform", p));
  if (signers.length) {
    out.append(el("table", { id: "signers" },
      el("tr", {}, el("th", {}, "角色 · role"), el("th", {}, "系统 · system"), el("th", {}, "ID"), el("th", {}, "登记状态 · registry")),
      ...signers));
  }
  out.append(el("table", { id: "checks" },
    el("tr", {}, el("th", {}, "检查 · check"), el("th", {}, "结果 · result"), el("th", {}, "说明 · detail")),
    ...r.checks.map(c => el("tr", { "data-check": c.name }, el("td", {}, c.name), el("td", { class: c.status }, c.status), el("td", {}, c.detail)))));
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("form");
  const out = document.getElementById("result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = document.getElementById("file").files[0];
    if (!file) return;
    out.dataset.state = "busy";
    out.replaceChildren(el("p", {}, "核验中… · Checking…"));
    const q = new URLSearchParams({ name: file.name });
    if (document.getElementById("declared").checked) q.set("declared_ai", "true");
    try {
      const resp = await fetch("/v1/labels/verify?" + q, { method: "POST", body: file });
      const body = await resp.json();
      if (!resp.ok) {
        const msg = (body.error && body.error.message) || resp.statusText;
        out.replaceChildren(el("p", { class: "error", id: "error" }, `无法核验 · Cannot check this file: ${msg}`));
      } else {
        render(out, body);
      }
    } catch (e) {
      out.replaceChildren(el("p", { class: "error", id: "error" }, `请求失败 · Request failed: ${e}`));
    }
    out.dataset.state = "done";
  });
});
