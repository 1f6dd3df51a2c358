// 查询: a returning petitioner's matters by receipt number, identity number or phone (the desk), and the same finder
// in the 并单 form (choosing the surviving matter). Identity numbers and phones go in POST bodies only
// (POST /v1/lookups/id-number|phone: logged and limited per terminal); a receipt number by GET /v1/petitions.
import { api } from "./api.js";
import { $, esc, options, problemText, ref, send, view, when } from "./common.js";
import { idNumberProblem } from "./idcard.js";

const KINDS = [["receipt", "回执编号"], ["id_number", "居民身份证号码"], ["phone", "联系电话"]];
let finders = 0;

/** The matters found, each as a row: the lookups' MatterFound, or a matter read by its receipt number. */
async function find(kind, value) {
  if (kind === "id_number") return (await api("/v1/lookups/id-number", { method: "POST", body: { id_number: value } })).matters;
  if (kind === "phone") return (await api("/v1/lookups/phone", { method: "POST", body: { phone: value } })).matters;
  const found = await api(`/v1/petitions?receipt_no=${encodeURIComponent(value)}`);
  return found.map((m) => ({ ...m, petition_id: String(m.petition_id), last_step_at: null,
                             next_due_at: m.due.map((d) => d.due_at).sort()[0] || null,
                             names: m.petitioners.map((p) => (p.erased ? null : p.name)) }));
}

export function resultsHtml(matters, buttons) {
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  const categories = new Map(ref.categories.map((k) => [k.code, k.name]));
  const places = new Map(ref.places.map((p) => [p.code, p.name]));
  if (!matters.length) return `<p class="found-none">未查到本单位辖区内的事项</p>`;
  return `<table class="found"><thead><tr><th>回执编号</th><th>信访人</th><th>状态</th><th>内容分类</th><th>发生地</th>
    <th>承办单位</th><th>登记时间</th><th>最近办理／期限</th><th></th></tr></thead><tbody>${matters.map((m) => `
    <tr data-id="${esc(m.petition_id)}" data-receipt="${esc(m.receipt_no)}"><td>${esc(m.receipt_no)}</td>
      <td>${m.names.map((n) => esc(n ?? "（已删除）")).join("、") || "—"}</td><td>${esc(m.status_label)}</td>
      <td>${esc(categories.get(m.category) || m.category)}</td><td>${esc(m.place || places.get(m.jurisdiction) || m.jurisdiction)}</td>
      <td>${esc(units.get(m.holder_unit) || m.holder_unit || "待交办")}</td><td>${esc(when(m.registered_at))}</td>
      <td>${esc(when(m.last_step_at))}／${esc(when(m.next_due_at))}</td>
      <td class="do">${buttons.map(([name, text]) => `<button type="button" data-do="${name}">${esc(text)}</button>`).join("")}</td>
    </tr>`).join("")}</tbody></table>`;
}

/** The finder's controls (no form of its own: it may sit inside the 并单 form); ``pick(name, matter)`` on a button. */
export function finderHtml() {
  const n = ++finders;
  return `<div class="finder" data-n="${n}"><div class="filters">
    <div><label for="find-kind-${n}">查询方式</label><select id="find-kind-${n}" class="find-kind">${options(KINDS)}</select></div>
    <div><label for="find-value-${n}">号码</label><input id="find-value-${n}" class="find-value" maxlength="32"
      autocomplete="off" spellcheck="false" aria-describedby="find-hint-${n}"></div>
    <div><button type="button" class="find-go primary">查询</button></div></div>
    <p id="find-hint-${n}" class="field-error" aria-live="polite"></p><div class="find-results" role="region"
      aria-live="polite" aria-label="查询结果"></div></div>`;
}

export function wireFinder(finder, buttons, pick) {
  const kind = $(".find-kind", finder), input = $(".find-value", finder), hint = $(".field-error", finder);
  const results = $(".find-results", finder);
  let found = [];
  const check = () => {
    const problem = kind.value === "id_number" ? idNumberProblem(input.value) : null;
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    hint.textContent = problem || (kind.value === "id_number" && input.value ? "号码校验通过" : "");
    hint.classList.toggle("field-ok", !problem);
    return problem;
  };
  const go = async () => {
    const value = input.value.trim();
    if (!value) { hint.textContent = "请输入号码"; return input.focus(); }
    if (check()) return input.focus();
    results.textContent = "查询中…";
    finder.dataset.found = "";
    try {
      found = await find(kind.value, kind.value === "id_number" ? value.toUpperCase() : value);
      results.innerHTML = resultsHtml(found, buttons);
      finder.dataset.found = String(found.length);
    } catch (err) {
      found = [];
      results.innerHTML = `<p class="refusal">${esc(problemText(err))}</p>`;
      finder.dataset.found = "refused";
    }
  };
  input.addEventListener("input", check);
  kind.addEventListener("change", check);
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
  $(".find-go", finder).addEventListener("click", go);
  results.addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-id]");
    if (row && e.target.dataset.do) pick(e.target.dataset.do, found.find((m) => m.petition_id === row.dataset.id), row);
  });
}

// ---- the desk's page -------------------------------------------------------------------------------------------

export async function lookupPage() {
  view().innerHTML = `<section class="card"><h2>查询信访人事项</h2>
    <p class="hint">按回执编号、居民身份证号码或联系电话查询本单位辖区内的事项；每次查询记入访问日志。</p>
    ${finderHtml()}</section><section id="visit" class="card hidden" aria-labelledby="visit-title"></section>`;
  const finder = $(".finder");
  wireFinder(finder, [["open", "打开事项"], ["visit", "登记来访"]], (what, matter) => {
    if (what === "open") location.hash = `#/matter/${matter.petition_id}`;
    else visitForm(matter);
  });
  $(".find-value", finder).focus();
}

/** 登记来访 on a matter found (a later batch: POST …/visits), queued as 待同步 when the network is down. */
export function recordVisit(matter, body, done, refused) {
  return send(`/v1/petitions/${matter.petition_id}/visits`, body, `来访：${matter.receipt_no}`, done, refused);
}

function visitForm(matter) {
  const card = $("#visit");
  card.innerHTML = `<h2 id="visit-title">在事项 ${esc(matter.receipt_no)} 上登记来访（重复访）</h2>
    <form id="visit-form" novalidate><div class="grid">
      <div><label for="visit-channel">信访形式</label><select id="visit-channel" name="channel" required>
        ${options(Object.entries(ref.me.labels.channel))}</select></div>
      <div><label for="visit-head">人数</label><input id="visit-head" name="head_count" type="number" min="1"
        max="${ref.me.max_head_count}" value="1" required></div></div>
      <label for="visit-summary">本次诉求（可不填）</label><textarea id="visit-summary" name="summary" maxlength="4000"></textarea>
      <div class="actions"><button type="submit" class="primary">登记来访</button></div>
      <p id="visit-done" role="status"></p><p id="visit-error" class="refusal" role="alert"></p></form>`;
  card.classList.remove("hidden");
  const form = $("#visit-form");
  $("#visit-channel").focus();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const wrong = [...form.querySelectorAll("[name]")].find((el) => !el.checkValidity());
    if (wrong) { wrong.setAttribute("aria-invalid", "true"); return wrong.focus(); }
    const summary = form.elements.summary.value.trim();
    const body = { channel: form.elements.channel.value, head_count: Number(form.elements.head_count.value),
                   ...(summary ? { summary } : {}) };
    $("#visit-error").textContent = "";
    await recordVisit(matter, body,
               (answer) => {
                 $("#visit-done").textContent = `已在事项 ${answer.receipt_no} 上登记来访，现共 ${answer.batches} 批`;
                 $("button[type=submit]", form).disabled = true;  // recorded: another visit is another lookup's
               },
               (err) => { $("#visit-error").textContent = `未能登记来访：${problemText(err)}`; });
  });
}
