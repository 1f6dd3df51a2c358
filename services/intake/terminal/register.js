// 登记: the registration form; before it is sent, the same people's matters (POST /v1/petitions/repeat-check) with a
// visit on one of them instead; the receipt slip 回执, printed from the PDF intake issues (the receipt notice).
import { api, fetchDocument, newKey, occurredNow, Offline, Problem } from "./api.js";
import { $, counted, esc, options, problemText, ref, view, when } from "./common.js";
import { idNumberProblem } from "./idcard.js";
import { recordVisit, resultsHtml } from "./lookup.js";
import * as outbox from "./outbox.js";

function placeOptions() {
  // the county's tree in depth-first order, each place indented under its parent
  const { places } = ref;
  const codes = new Set(places.map((p) => p.code));
  const children = new Map();
  for (const p of places) {
    const parent = codes.has(p.parent) ? p.parent : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(p);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const p of children.get(parent) || []) {
      out.push([p.code, `${"　".repeat(depth)}${p.name}`]);
      walk(p.code, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

let petitionerCount = 0;

function petitionerFieldset() {
  const n = ++petitionerCount;
  return `<fieldset class="petitioner" data-n="${n}"><legend>信访人</legend><div class="grid">
    <div><label for="name-${n}">姓名</label><input id="name-${n}" name="name" required maxlength="64"></div>
    <div><label for="id-${n}">居民身份证号码</label>
      <input id="id-${n}" name="id_number" inputmode="text" maxlength="18" autocomplete="off" spellcheck="false"
             aria-describedby="id-${n}-error">
      <p id="id-${n}-error" class="field-error" aria-live="polite"></p></div>
    <div><label for="phone-${n}">联系电话</label><input id="phone-${n}" name="phone" inputmode="tel" maxlength="20"
             pattern="[0-9+\\- ]{5,20}"></div>
    <div><label for="address-${n}">住址</label><input id="address-${n}" name="address" maxlength="200"></div>
  </div><button type="button" class="remove">删除此信访人</button></fieldset>`;
}

export async function registerPage() {
  const { me, categories } = ref;
  petitionerCount = 0;
  const channels = Object.entries(me.labels.channel);
  view().innerHTML = `<form id="register" class="card" novalidate>
    <h2>登记信访事项</h2>
    <div class="grid">
      <div><label for="channel">信访形式</label><select id="channel" name="channel" required>${options(channels)}</select></div>
      <div><label for="jurisdiction">事项发生地</label>
        <select id="jurisdiction" name="jurisdiction" required>${options(placeOptions(), me.unit.jurisdiction)}</select></div>
      <div><label for="category">内容分类</label><select id="category" name="category" required>
        <option value="">请选择</option>${options(categories.map((k) => [k.code, k.name]))}</select></div>
      <div><label for="head_count">人数</label><input id="head_count" name="head_count" type="number" min="1"
        max="${me.max_head_count}" value="1" required aria-describedby="head-hint">
        <p id="head-hint" class="hint">${me.collective_threshold}人及以上为集体访</p></div>
    </div>
    <label for="summary">主要诉求</label><textarea id="summary" name="summary" required maxlength="4000"></textarea>
    <div id="petitioners">${petitionerFieldset()}</div>
    <div class="actions"><button type="button" id="add-petitioner">添加信访人</button>
      <button type="submit" class="primary">登记</button></div>
    <p id="register-error" class="field-error" role="alert"></p>
  </form>`;
  const form = $("#register");
  $("#channel").focus();
  form.addEventListener("input", (e) => {
    if (e.target.name === "id_number") checkId(e.target);
    if (["id_number", "phone"].includes(e.target.name) && form.dataset.repeats) {  // other people: ask again
      delete form.dataset.repeats;
      $("#repeats", form)?.remove();
    }
  });
  form.addEventListener("click", (e) => {
    if (e.target.classList.contains("remove") && form.querySelectorAll(".petitioner").length > 1) {
      e.target.closest(".petitioner").remove();
      $(".petitioner input", form).focus();
    }
  });
  $("#add-petitioner").addEventListener("click", () => {
    $("#petitioners").insertAdjacentHTML("beforeend", petitionerFieldset());
    $("#petitioners .petitioner:last-child input").focus();
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); submitRegistration(form); });
}

function checkId(input) {
  const problem = idNumberProblem(input.value);
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  const said = $(`#${input.id}-error`);
  said.textContent = problem || (input.value ? "号码校验通过" : "");
  said.classList.toggle("field-ok", !problem);
  return problem;
}

function registration(form) {
  const value = (name) => form.elements[name].value.trim();
  const petitioners = [...form.querySelectorAll(".petitioner")].map((set) => {
    const person = { name: $("[name=name]", set).value.trim() };
    for (const field of ["id_number", "phone", "address"]) {
      const text = $(`[name=${field}]`, set).value.trim();
      if (text) person[field] = field === "id_number" ? text.toUpperCase() : text;
    }
    return person;
  });
  return { channel: value("channel"), jurisdiction: value("jurisdiction"), category: value("category"),
           summary: value("summary"), head_count: Number(value("head_count")), petitioners };
}

function invalidFields(form) {
  let first = null;
  for (const input of form.querySelectorAll("input, select, textarea")) {
    const bad = !input.checkValidity() || (input.name === "id_number" && checkId(input));
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    first = first || (bad ? input : null);
  }
  return first;
}

async function submitRegistration(form) {
  const error = $("#register-error");
  const wrong = invalidFields(form);
  if (wrong) {
    error.textContent = `请检查「${form.querySelector(`label[for="${wrong.id}"]`).textContent}」`;
    return wrong.focus();
  }
  error.textContent = "";
  const fields = registration(form);
  const button = form.querySelector(":scope > .actions button[type=submit]");
  button.disabled = true;
  if (!form.dataset.repeats) {  // asked once per set of people; "仍登记为新事项" sends it
    let repeats;
    try {
      repeats = await repeatCheck(fields.petitioners);
    } catch (err) {
      button.disabled = false;
      error.textContent = problemText(err);
      return markFields(form, err);
    }
    if (repeats.length) {
      button.disabled = false;
      form.dataset.repeats = String(repeats.length);
      return showRepeats(form, fields, repeats);
    }
  }
  // its occurred time and key go with the first try and every retry alike: the same body, never a second matter
  const body = { ...fields, occurred_at: occurredNow() };
  const key = newKey();
  try {
    const answer = await api("/v1/petitions", { method: "POST", body, key });
    showSlip(body, answer);
  } catch (err) {
    if (err instanceof Offline) {
      await outbox.queue({ key, terminal_id: ref.me.terminal_id, path: "/v1/petitions", what: "登记", body,
                           slip: slipFacts(body) });
      await counted();
      showSlip(body, null);
    } else {
      button.disabled = false;
      error.textContent = problemText(err);
      markFields(form, err);
    }
  }
}


function markFields(form, err) {
  for (const f of (err.body && err.body.errors) || []) {
    const [name, index, sub] = String(f.field).split(".");
    const input = name === "petitioners" ? form.querySelectorAll(".petitioner")[Number(index)]?.querySelector(`[name=${sub}]`)
      : form.elements[name];
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

function slipFacts(body) {
  const place = ref.places.find((p) => p.code === body.jurisdiction);
  const category = ref.categories.find((k) => k.code === body.category);
  return { channel: ref.me.labels.channel[body.channel], place: place ? place.name : body.jurisdiction,
           category: category ? category.name : body.category, head_count: body.head_count,
           names: body.petitioners.map((p) => p.name).join("、"), unit: ref.me.unit.name,
           at: new Date().toISOString() };
}

export function slipHtml(facts, answer) {
  const receipt = answer ? esc(answer.receipt_no) : "待同步";
  return `<section id="slip" class="card" tabindex="-1" aria-labelledby="slip-title">
    <h2 id="slip-title">信访事项登记回执</h2>
    <p>回执编号</p><p class="receipt" id="receipt-no">${receipt}</p>
    ${answer ? "" : `<p class="refusal">网络已断开：本次登记已保存在本机，网络恢复后自动提交，回执编号届时生成（见「待同步」）。</p>`}
    <dl class="facts">
      <dt>信访人</dt><dd>${esc(facts.names)}</dd><dt>信访形式</dt><dd>${esc(facts.channel)}</dd>
      <dt>事项发生地</dt><dd>${esc(facts.place)}</dd><dt>内容分类</dt><dd>${esc(facts.category)}</dd>
      <dt>人数</dt><dd>${esc(facts.head_count)}</dd><dt>登记单位</dt><dd>${esc(facts.unit)}</dd>
      <dt>登记时间</dt><dd>${esc(when(facts.at))}</dd>
    </dl>
    <p class="hint">打印的回执由受理系统生成（PDF，含查询码）；凭回执编号和查询码可查询办理进度。</p>
    <div class="actions"><button type="button" id="print" class="primary">${answer ? "打印回执" : "联网后可打印回执"}</button>
      <a id="slip-pdf" class="button hidden" target="_blank" rel="noopener">打开回执 PDF</a>
      <button type="button" id="again">继续登记</button></div>
    <p id="slip-status" role="status"></p>
  </section>`;
}

function showSlip(body, answer) {
  view().innerHTML = slipHtml(slipFacts(body), answer) + repeatsHtml(answer);
  wireSlip(answer);
}

/** 打印回执: intake issues the receipt notice (登记回执, with the petitioner's query code) and the page opens its PDF;
 * one key per slip shown, so a second click reprints the same notice rather than issuing another. */
export function wireSlip(answer) {
  const print = $("#print");
  if (answer) {
    const key = newKey();
    print.addEventListener("click", () => printSlip(answer.petition_id, key));
  } else {
    print.disabled = true;
  }
  $("#again").addEventListener("click", () => registerPage());
  $("#slip").focus();
}

async function printSlip(pid, key) {
  const said = $("#slip-status");
  said.textContent = "正在生成回执…";
  try {
    const notice = await api(`/v1/petitions/${pid}/notices`, { method: "POST", body: { kind: "receipt", delivery: "desk" },
                                                             key });
    const url = URL.createObjectURL(await fetchDocument(notice.pdf));
    const link = $("#slip-pdf");
    link.href = url;
    link.download = `回执-${$("#receipt-no").textContent}.pdf`;
    link.classList.remove("hidden");
    said.textContent = "回执已生成（含查询码），请在打开的 PDF 中打印";
    window.open(url, "_blank");  // a blocked pop-up leaves the link
  } catch (err) {
    said.textContent = err instanceof Offline ? "网络已断开，联网后再打印回执" : `未能生成回执：${problemText(err)}`;
  }
}

/** The matters POST /v1/petitions would list as possible_repeats, asked before registering: [] offline or beyond
 * the terminal's lookup allowance (the registration's answer then lists them). */
async function repeatCheck(petitioners) {
  const keys = petitioners.map(({ id_number, phone }) => ({ ...(id_number ? { id_number } : {}), ...(phone ? { phone } : {}) }));
  if (!keys.some((k) => k.id_number || k.phone)) return [];
  try {
    return (await api("/v1/petitions/repeat-check", { method: "POST", body: { petitioners: keys } })).possible_repeats;
  } catch (err) {
    if (err instanceof Offline || (err instanceof Problem && err.status === 429)) return [];
    throw err;
  }
}

const MATCHED = { id_number: "身份证号码相符", phone: "电话相符" };

function showRepeats(form, fields, repeats) {
  $("#repeats", form)?.remove();
  $(".actions", form).insertAdjacentHTML("beforebegin", `<section id="repeats" class="repeats" aria-labelledby="repeats-title">
    <h3 id="repeats-title">可能是重复信访：同一信访人已有 ${repeats.length} 件事项</h3>
    <p class="hint">如确属同一事项，请改为在原事项上登记本次来访（重复访），不另立新事项；否则点「仍登记为新事项」。</p>
    ${resultsHtml(repeats.map(shown), [["visit", "改为在此事项上登记来访"]])}
    <div class="actions"><button type="submit" id="register-anyway">仍登记为新事项</button></div>
    <p id="repeat-result" class="refusal" role="alert"></p></section>`);
  $("#repeats .found").addEventListener("click", async (e) => {
    const row = e.target.closest("tr[data-id]");
    if (!row || e.target.dataset.do !== "visit") return;
    const matter = { petition_id: row.dataset.id, receipt_no: row.dataset.receipt };
    const { channel, head_count, petitioners, summary } = fields;
    await recordVisit(matter, { channel, head_count, petitioners, summary }, (answer) => visitRecorded(answer),
                      (err) => { $("#repeat-result").textContent = `未能登记来访：${problemText(err)}`; });
  });
  $("#repeats h3").scrollIntoView({ block: "nearest" });
  $("#repeats .found button").focus();
}

/** A possible repeat as the finder's table shows it: who matched instead of names (the check answers none). */
const shown = (r) => ({ ...r, names: r.matched_by.map((m) => MATCHED[m] || m), next_due_at: null });

function visitRecorded(answer) {
  view().innerHTML = `<section id="visit-recorded" class="card" tabindex="-1"><h2>已登记来访</h2>
    <p>本次来访已登记在事项 <b id="visit-receipt">${esc(answer.receipt_no)}</b>（${esc(answer.status_label)}）上，现共
      ${answer.batches} 批 ／ ${answer.head_count} 人；未另立新事项。</p>
    <div class="actions"><a class="button" href="#/matter/${esc(answer.petition_id)}">打开该事项</a>
      <button type="button" id="again">继续登记</button></div></section>`;
  $("#again").addEventListener("click", () => registerPage());
  $("#visit-recorded").focus();
}

// possible_repeats of the registration's answer (when the check before it could not ask, or the people matched only
// now): the new matter exists, so what remains is 并单 by a supervisor, on the new matter's page
function repeatsHtml(answer) {
  const repeats = (answer && answer.possible_repeats) || [];
  if (!repeats.length) return "";
  return `<section id="repeats" class="card"><h2>可能是重复信访</h2>
    <p class="hint">本次登记已生成新事项 ${esc(answer.receipt_no)}。如与下列事项确属同一事项，请主管在
      <a href="#/matter/${esc(answer.petition_id)}">本事项页面</a>将其并入原事项（并单）。</p>
    ${resultsHtml(repeats.map(shown), [])}</section>`;
}
