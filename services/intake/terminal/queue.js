// 待同步: what waits for the network, what was sent (its receipt), what intake refused (its reason) until dismissed.
import { $, counted, esc, ref, view, when } from "./common.js";
import * as outbox from "./outbox.js";
import { slipHtml, wireSlip } from "./register.js";

const STATES = { pending: ["pending", "待同步"], refused: ["refused", "被退回"], sent: ["sent", "已同步"] };

export async function outboxPage() {
  const items = (await outbox.items()).filter((i) => i.terminal_id === ref.me.terminal_id);
  view().innerHTML = `<section class="card"><h2>待同步</h2>
    <p class="hint">断网时的登记和办理保存在本机，网络恢复后按顺序自动提交；被退回的请按原因处理后点「已知悉」。</p>
    <div class="actions"><button type="button" id="sync-now">立即同步</button></div>
    <table id="outbox"><thead><tr><th>内容</th><th>发生时间</th><th>状态</th><th>结果</th><th></th></tr></thead><tbody>
    ${items.map((i) => `<tr data-key="${esc(i.key)}" class="${i.state}"><td>${esc(i.what)}${i.slip ? `：${esc(i.slip.names)}` : ""}</td>
      <td>${esc(when(i.occurred_at))}</td>
      <td><span class="tag ${STATES[i.state][0]}">${STATES[i.state][1]}</span></td>
      <td>${i.state === "sent" && i.answer && i.answer.receipt_no ? `回执编号 <b>${esc(i.answer.receipt_no)}</b>` : ""}
        ${i.state === "sent" ? repeatsNote(i.answer) : ""}
        ${i.state === "refused" ? `<span class="refusal">${esc(i.problem.zh)}</span> <span class="hint">${esc(i.problem.en)}</span>` : ""}</td>
      <td>${i.state === "sent" && i.slip ? `<button type="button" class="slip">回执</button>` : ""}
        ${i.state !== "pending" ? `<button type="button" class="dismiss">已知悉</button>` : ""}</td></tr>`).join("")}
    </tbody></table>${items.length ? "" : "<p>没有待同步的内容</p>"}</section>`;
  $("#sync-now").addEventListener("click", () => syncNow());
  $("#outbox").addEventListener("click", async (e) => {
    const row = e.target.closest("tr[data-key]");
    const item = row && items.find((i) => i.key === row.dataset.key);
    if (!item) return;
    if (e.target.classList.contains("dismiss")) { await outbox.remove(item.key); await counted(); return outboxPage(); }
    if (e.target.classList.contains("slip")) { view().innerHTML = slipHtml(item.slip, item.answer); wireSlip(item.answer); }
  });
}

/** A registration sent late may repeat a matter (its 201's possible_repeats): the new matter's page offers 并单. */
function repeatsNote(answer) {
  const repeats = (answer && answer.possible_repeats) || [];
  return repeats.length ? `<p class="refusal repeats-note">可能是重复信访：${repeats.map((r) => esc(r.receipt_no)).join("、")}，
    请主管在<a href="#/matter/${esc(answer.petition_id)}">本事项页面</a>并单</p>` : "";
}

export async function syncNow() {
  if (!ref || !navigator.onLine) return;
  await outbox.sync(ref.me.terminal_id, counted);
  await counted();
  if (document.body.dataset.page === "outbox") await outboxPage();
}
