// The petitioner's page: the receipt slip's number and code (kept in this page only, sent in POST bodies, never in
// a URL or in storage), where the matter stands, the notices to download, the evaluation and the review request.
const API = "/portal/v1";
const $ = (id) => document.getElementById(id);
let slip = null;

async function post(path, body) {
  const response = await fetch(API + path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...slip, ...body }),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail_zh || `请求失败（${response.status}）`);
  }
  return response;
}

function say(id, text) {
  $(id).textContent = text || "";
  $(id).hidden = !text;
}

function item(text, ...children) {
  const li = document.createElement("li");
  li.append(text, ...children);
  return li;
}

function download(notice, fmt) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link";
  button.textContent = fmt === "pdf" ? "下载PDF" : "下载Word";
  button.dataset.notice = notice.notice_id;
  button.addEventListener("click", () => act(button, async () => {
    const blob = await (await post(`/notices/${notice.notice_id}.${fmt}`, {})).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${notice.kind_label}-${notice.issued_date}.${fmt}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }));
  return button;
}

function show(standing) {
  $("s-receipt").textContent = standing.receipt_no;
  $("s-status").textContent = standing.status_label;
  $("s-holder").textContent = standing.holder || "待交办";
  $("s-due").replaceChildren(...(standing.due.length ? standing.due.map((d) => item(`${d.stage_label}：${d.due_date}前`))
    : [item("当前没有进行中的期限")]));
  $("s-notices").replaceChildren(...(standing.notices.length
    ? standing.notices.map((n) => item(`${n.kind_label}（${n.issued_date}）`, download(n, "pdf"), download(n, "docx")))
    : [item("暂无")]));
  $("evaluate").hidden = !standing.may_evaluate;
  $("review").hidden = !standing.review;
  if (standing.review) {
    $("r-title").textContent = standing.review.label;
    $("r-submit").textContent = `提交${standing.review.label}`;
    $("r-until").textContent = `如对答复不服，可于${standing.review.until_date}前${standing.review.label}。`;
  }
  $("standing").hidden = false;
}

async function act(button, work) {
  button.disabled = true;
  say("problem", "");
  try {
    await work();
  } catch (error) {
    say("problem", error.message);
  } finally {
    button.disabled = false;
  }
}

function form(id, path, done, fields) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    act(event.submitter || $(id).querySelector("button"), async () => {
      show(await (await post(path, fields(new FormData($(id))))).json());
      $(id).reset();
      say("done", done);
    });
  });
}

$("slip").addEventListener("submit", (event) => {
  event.preventDefault();
  slip = { receipt_no: $("receipt_no").value.trim(), query_code: $("query_code").value.trim() };
  say("done", "");
  $("standing").hidden = true;
  act(event.submitter, async () => show(await (await post("/query", {})).json()));
});
form("evaluate", "/evaluation", "感谢您的评价。", (data) => ({
  satisfaction: data.get("satisfaction"), remark: data.get("remark").trim() || null,
}));
form("review", "/review", "申请已提交，复查（复核）机关将在30日内办理。", (data) => ({ reason: data.get("reason").trim() }));
