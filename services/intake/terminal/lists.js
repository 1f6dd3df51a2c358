// 待办 and 辖区事项: the handler's worklist and the supervisor's listing, soonest due first.
import { api } from "./api.js";
import { $, esc, options, ref, view, when } from "./common.js";

function leftText(item) {
  if (item.suspended) return `<span class="tag paused">${esc(item.due_label || "暂停")}</span>`;
  if (item.working_days_left === null) return "—";
  const n = item.working_days_left;
  const text = item.overdue ? `已超期${n < 0 ? `${-n}个工作日` : ""}` : n === 0 ? "今日到期" : `剩${n}个工作日`;
  const tag = item.overdue ? `<span class="tag overdue">超期</span>` : item.warned ? `<span class="tag warned">预警</span>` : "";
  return `${text}${tag}`;
}

// A list of up to 2,000 matters as an ARIA table of grid rows: each row is laid out and painted only when it nears
// the screen (content-visibility), so a 1,000-row worklist costs what its first screen costs; every row is in the
// page, read by screen readers and found by Ctrl+F.
function rowsHtml(items, withHolder) {
  const places = new Map(ref.places.map((p) => [p.code, p.name]));
  const categories = new Map(ref.categories.map((k) => [k.code, k.name]));
  const units = new Map(ref.units.map((u) => [u.id, u.name]));
  return items.map((item) => `<div role="row" tabindex="0" data-id="${item.petition_id}"
      class="row${item.overdue ? " overdue" : item.warned ? " warned" : ""}">
    <span role="cell">${esc(item.receipt_no)}</span><span role="cell">${esc(categories.get(item.category) || item.category)}</span>
    <span role="cell" class="wide">${esc(places.get(item.jurisdiction) || item.jurisdiction)}</span><span role="cell">${esc(item.status_label)}</span>
    ${withHolder ? `<span role="cell" class="wide">${esc(units.get(item.holder_unit) || item.holder_unit || "待交办")}</span>` : ""}
    <span role="cell">${item.next_due_at ? esc(when(item.next_due_at)) : "—"}</span><span role="cell" class="left">${leftText(item)}</span></div>`).join("");
}

function tableHtml(id, items, withHolder) {
  const head = ["回执编号", "内容分类", ["发生地"], "状态", ...(withHolder ? [["承办单位"]] : []), "办理期限", "剩余时间"];
  return `<div id="${id}" role="table" class="list${withHolder ? " with-holder" : ""}" aria-rowcount="${items.length + 1}">
    <div role="rowgroup"><div role="row" class="row head">${head.map((h) => Array.isArray(h)
      ? `<span role="columnheader" class="wide">${h[0]}</span>` : `<span role="columnheader">${h}</span>`).join("")}</div></div>
    <div role="rowgroup" class="body">${rowsHtml(items, withHolder)}</div></div>`;
}

function openRows(table) {
  const open = (row) => { if (row) location.hash = `#/matter/${row.dataset.id}`; };
  table.addEventListener("click", (e) => open(e.target.closest(".row[data-id]")));
  table.addEventListener("keydown", (e) => { if (e.key === "Enter") open(e.target.closest(".row[data-id]")); });
}

export async function worklistPage() {
  view().innerHTML = `<section class="card"><h2>本单位待办</h2><p class="hint" id="worklist-count">读取中…</p></section>`;
  const items = await api("/v1/matters?view=worklist&limit=2000");
  performance.mark("worklist-data");
  view().innerHTML = `<section class="card"><h2>本单位待办</h2>
    <p class="hint" id="worklist-count">共 ${items.length} 件，最先到期的在前</p>${tableHtml("worklist", items, false)}</section>`;
  openRows($("#worklist"));
  document.body.dataset.rows = String(items.length);
}

export async function mattersPage() {
  const { me, categories } = ref;
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const choose = (name) => q.get(name) || "";
  view().innerHTML = `<section class="card"><h2>本单位及下级事项</h2>
    <form id="filters" class="filters">
      <div><label for="f-status">状态</label><select id="f-status" name="status"><option value="">全部</option>
        ${options(Object.entries(me.labels.status), choose("status"))}</select></div>
      <div><label for="f-tier">承办层级</label><select id="f-tier" name="tier"><option value="">全部</option>
        ${options(Object.entries(me.labels.tier), choose("tier"))}</select></div>
      <div><label for="f-category">内容分类</label><select id="f-category" name="category"><option value="">全部</option>
        ${options(categories.map((k) => [k.code, k.name]), choose("category"))}</select></div>
      <div><label for="f-overdue">是否超期</label><select id="f-overdue" name="overdue">
        ${options([["", "全部"], ["true", "已超期"], ["false", "未超期"]], choose("overdue"))}</select></div>
      <div><button type="submit" class="primary">筛选</button></div>
    </form><p class="hint" id="matters-count">读取中…</p><div id="matters-table"></div></section>`;
  $("#filters").addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = new URLSearchParams([...new FormData(e.target)].filter(([, v]) => v));
    location.hash = `#/matters?${chosen}`;
  });
  q.set("view", "scope");
  const items = await api(`/v1/matters?${q}`);
  $("#matters-count").textContent = `共 ${items.length} 件`;
  $("#matters-table").innerHTML = tableHtml("matters", items, true);
  openRows($("#matters"));
  document.body.dataset.rows = String(items.length);
}
