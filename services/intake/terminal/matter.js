// A matter's page: its facts, its whole timeline, and every action with the form it needs (intake says which
// are allowed now, and why not the others).
import { api } from "./api.js";
import { $, esc, options, problemText, ref, send, view, when } from "./common.js";
import { finderHtml, wireFinder } from "./lookup.js";

const NEEDS = {  // the fields each action's form asks for (schemas.py: AcceptIn … WithdrawIn)
  accept: [["note", "受理意见（可不填）", "textarea", false]],
  decline: [["reason", "不予受理理由（告知信访人）", "textarea", true], ["redirect", "引导至其他法定途径", "redirect", false]],
  transfer: [["reason", "转送理由", "textarea", true], ["to_unit", "接收单位（可不选，由系统按规则交办）", "unit", false],
             ["category", "更正内容分类（可不选）", "category", false]],
  object: [["reason", "派单异议理由", "textarea", true]],
  extend: [["days", "延长天数", "days", true], ["reason", "延期理由", "textarea", true]],
  suspend: [["reason", "中止计时理由（如：听证）", "textarea", true]],
  resume: [],
  reply: "answer", reply_review: "answer", reply_recheck: "answer",
  request_review: [["reason", "复查请求理由", "textarea", true]],
  request_recheck: [["reason", "复核请求理由", "textarea", true]],
  evaluate: [["satisfaction", "信访人评价", "satisfaction", true]],
  withdraw: [["reason", "撤回原因（可不填）", "textarea", false]],
  merge: "merge",
  unmerge: [["reason", "撤销并单理由", "textarea", true]],
};
const ANSWER = [["decision", "处理结论", "decision", true], ["resolved", "事项是否已解决", "resolved", true],
                ["facts", "查明事实", "textarea", true], ["grounds", "依据和理由", "textarea", true]];

function inputHtml([name, text, kind, required]) {
  const id = `act-${name}`, req = required ? " required" : "";
  const labels = ref.me.labels;
  const select = (pairs) => `<select id="${id}" name="${name}"${req}>${required ? "" : `<option value="">不选</option>`}${options(pairs)}</select>`;
  const control = {
    textarea: () => `<textarea id="${id}" name="${name}" maxlength="4000"${req}></textarea>`,
    days: () => `<input id="${id}" name="${name}" type="number" min="1" max="30" value="30"${req}>`,
    redirect: () => select(Object.entries(labels.redirect)),
    decision: () => select(Object.entries(labels.decision)),
    satisfaction: () => select(Object.entries(labels.satisfaction)),
    resolved: () => select([["true", "已解决"], ["false", "未解决"]]),
    unit: () => select(ref.units.map((u) => [u.id, u.name])),
    category: () => select(ref.categories.map((k) => [k.code, k.name])),
  }[kind]();
  return `<label for="${id}">${esc(text)}</label>${control}`;
}

function actionBody(name, form) {
  const body = { action: name };
  for (const el of form.querySelectorAll("[name]")) {
    const text = el.value.trim();
    if (!text) continue;
    body[el.name] = el.name === "days" ? Number(text) : el.name === "resolved" ? text === "true" : text;
  }
  return body;
}

export async function matterPage(id) {
  const [matter, history] = await Promise.all([api(`/v1/petitions/${id}`), api(`/v1/petitions/${id}/timeline`)]);
  const labels = ref.me.labels;
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  const category = ref.categories.find((k) => k.code === matter.category);
  const place = ref.places.find((p) => p.code === matter.jurisdiction);
  const allowed = history.actions.filter((a) => a.allowed);
  const refused = history.actions.filter((a) => !a.allowed);
  view().innerHTML = `<section class="card"><h2>事项 ${esc(matter.receipt_no)} · <span id="status">${esc(matter.status_label)}</span></h2>
    <dl class="facts">
      <dt>内容分类</dt><dd>${esc(category ? category.name : matter.category)}</dd>
      <dt>发生地</dt><dd>${esc(place ? place.name : matter.jurisdiction)}</dd>
      <dt>承办单位</dt><dd>${esc(units.get(matter.holder_unit) || matter.holder_unit || "待交办")}
        ${matter.holder_tier ? `（${esc(labels.tier[matter.holder_tier])}）` : ""}</dd>
      <dt>办理期限</dt><dd>${matter.due.map((d) => `${esc(labels.stage[d.stage] || d.stage)} ${esc(when(d.due_at))}`).join("；") || "—"}
        ${matter.suspended ? `<span class="tag paused">暂停</span>` : ""}</dd>
      <dt>批次／人数</dt><dd>${matter.batches} 批 ／ ${matter.head_count} 人</dd>
      <dt>信访人</dt><dd>${matter.petitioners.map((p) => esc(p.erased ? "（已删除）" : p.name)).join("、") || "—"}</dd>
      ${mergedHtml(matter, history.entries)}
    </dl></section>
    <section class="card"><h2>办理操作</h2>
      <div class="actions" id="action-buttons">${allowed.map((a) =>
        `<button type="button" data-action="${a.action}">${esc(a.label)}</button>`).join("") || "<p class='hint'>本终端当前没有可做的操作</p>"}</div>
      <form id="action-form" class="hidden" novalidate></form>
      <p id="action-done" role="status"></p>
      <p id="action-error" class="refusal" role="alert"></p>
      ${refused.length ? `<details><summary>当前不可做的操作及原因</summary><ul id="refused-actions">${refused.map((a) =>
        `<li><b>${esc(a.label)}</b>：${esc(a.reason_zh)}</li>`).join("")}</ul></details>` : ""}
    </section>
    <section class="card"><h2>办理经过</h2><ol class="timeline" id="timeline">${history.entries.map((e) =>
      `<li class="${e.source}"><time datetime="${esc(e.occurred_at)}">${esc(when(e.occurred_at))}</time><b>${esc(e.label)}</b>
        ${esc(describe(e))}${e.recorded_at.slice(0, 16) !== e.occurred_at.slice(0, 16)
          ? `<span class="hint">（${esc(when(e.recorded_at))} 记录）</span>` : ""}</li>`).join("")}</ol></section>`;
  $("#action-buttons").addEventListener("click", (e) => {
    const name = e.target.dataset.action;
    if (name) actionForm(id, name, history.actions.find((a) => a.action === name).label);
  });
}

/** 并单: the survivor this matter was merged into, the matters merged into it; receipt numbers from its events. */
function mergedHtml(matter, entries) {
  const receipts = new Map();
  for (const e of entries) {
    if (e.data.into && e.data.into_receipt_no) receipts.set(e.data.into, e.data.into_receipt_no);
    if (e.data.merged && e.data.merged_receipt_no) receipts.set(e.data.merged, e.data.merged_receipt_no);
  }
  const link = (id) => `<a href="#/matter/${esc(id)}">${esc(receipts.get(id) || id)}</a>`;
  return (matter.merged_into ? `<dt>已并入</dt><dd id="merged-into">${link(matter.merged_into)}（在存续事项上办理）</dd>` : "")
    + (matter.merged.length ? `<dt>并入本事项</dt><dd id="merged-in">${matter.merged.map(link).join("、")}</dd>` : "");
}

function describe(entry) {
  const d = entry.data, labels = ref.me.labels;
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  const parts = [];
  if (d.unit) parts.push(units.get(d.unit) || d.unit);
  if (d.to_unit) parts.push(`→ ${units.get(d.to_unit) || d.to_unit}`);
  if (d.decision) parts.push(labels.decision[d.decision]);
  if (d.resolved !== undefined && d.resolved !== null) parts.push(d.resolved ? "已解决" : "未解决");
  if (d.satisfaction) parts.push(labels.satisfaction[d.satisfaction]);
  if (d.days) parts.push(`${d.days}天`);
  if (d.into_receipt_no) parts.push(`并入 ${d.into_receipt_no}`);
  if (d.merged_receipt_no) parts.push(`${d.merged_receipt_no} 并入本事项`);
  if (d.facts) parts.push(`查明事实：${d.facts}`);
  if (d.grounds) parts.push(`依据和理由：${d.grounds}`);
  for (const text of [d.reason, d.note, d.summary]) if (text) parts.push(text);
  if (d.head_count) parts.push(`${d.head_count}人`);
  return parts.length ? `：${parts.join("，")}` : "";
}

// 并单's form: the surviving matter found by receipt number, identity number or phone, then the reason
const MERGE = `<p class="hint">本事项系误登记的重复件：其批次并入存续事项（计为重复访），本事项的期限随之结束。</p>
  <h4>选定存续事项</h4>__FINDER__<input type="hidden" name="into" id="act-into">
  <p id="merge-into" class="hint" role="status">尚未选定存续事项</p>`;

function actionForm(id, name, label) {
  const form = $("#action-form");
  const fields = NEEDS[name] === "answer" ? ANSWER : NEEDS[name] === "merge" ? [["reason", "并单理由", "textarea", true]]
    : NEEDS[name];
  form.innerHTML = `<h3>${esc(label)}</h3>${NEEDS[name] === "merge" ? MERGE.replace("__FINDER__", finderHtml()) : ""}
    ${fields.map(inputHtml).join("")}
    <div class="actions"><button type="submit" class="primary">确认${esc(label)}</button>
    <button type="button" id="action-cancel">取消</button></div>`;
  if (NEEDS[name] === "merge") {
    wireFinder($(".finder", form), [["into", "选为存续事项"]], (_, survivor) => {
      $("#act-into").value = survivor.petition_id;
      $("#merge-into").textContent = `存续事项：${survivor.receipt_no}（${survivor.status_label}）`;
      $("#act-reason").focus();
    });
  }
  form.classList.remove("hidden");
  $("#action-error").textContent = "";
  (form.querySelector("[name]") || form.querySelector("button")).focus();
  $("#action-cancel").onclick = () => form.classList.add("hidden");
  form.onsubmit = async (e) => {
    e.preventDefault();
    const wrong = [...form.querySelectorAll("[name]")].find((el) => !el.checkValidity());
    if (wrong) { wrong.setAttribute("aria-invalid", "true"); return wrong.focus(); }
    if (name === "merge" && !$("#act-into").value) {
      $("#action-error").textContent = "请先查询并选定存续事项";
      return $(".find-value", form).focus();
    }
    await send(`/v1/petitions/${id}/actions`, actionBody(name, form), label,
               () => matterPage(id).then(() => { $("#action-done").textContent = `已${label}`; }),
               (err) => { $("#action-error").textContent = `未能${label}：${problemText(err)}`; });
  };
}
