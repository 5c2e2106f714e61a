// Moderato's console: keyboard shortcuts, decisions made in place, bulk
// selection and live counts. Every page works without it; this only makes
// the queue faster to work through.
"use strict";

(function () {
  const cards = () => Array.from(document.querySelectorAll("#cards article.card"));
  let current = null;

  // ---- Moving through the queue ----------------------------------------

  function setCurrent(card, focus) {
    if (current) current.classList.remove("current");
    current = card || null;
    if (!current) return;
    current.classList.add("current");
    if (focus) {
      current.focus({ preventScroll: true });
      current.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = cards();
    if (all.length === 0) return;
    // The first j or k goes to the comment marked current (the first one
    // when the page opens) rather than past it.
    if (current && all.includes(current) && !current.contains(document.activeElement)) {
      setCurrent(current, true);
      return;
    }
    const at = all.indexOf(current);
    const next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    setCurrent(all[next], true);
  }

  function press(card, actions) {
    if (!card) return;
    for (const action of actions) {
      const button = card.querySelector('form.decide button[value="' + action + '"]');
      if (button) {
        button.click();
        return;
      }
    }
  }

  // ---- Notices --------------------------------------------------------------

  let toastTimer = null;

  function toast(text, options) {
    const old = document.querySelector(".toast");
    if (old) old.remove();
    const box = document.createElement("div");
    box.className = "toast" + (options && options.error ? " error" : "");
    box.setAttribute("role", options && options.error ? "alert" : "status");
    const span = document.createElement("span");
    span.textContent = text;
    box.appendChild(span);
    const undo = document.getElementById("undo-form");
    if (options && options.undo && undo) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Undo";
      button.addEventListener("click", () => undo.requestSubmit());
      box.appendChild(button);
    }
    document.body.appendChild(box);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.remove(), 8000);
  }

  // ---- Decisions in place ---------------------------------------------

  function replaceCard(card, html) {
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const fresh = holder.querySelector("article.card");
    if (fresh) card.replaceWith(fresh);
    return fresh;
  }

  async function decide(form, submitter) {
    const card = form.closest("article.card");
    const all = cards();
    const at = all.indexOf(card);
    const body = new URLSearchParams(new FormData(form, submitter));
    form.querySelectorAll("button").forEach((b) => (b.disabled = true));
    let answer;
    try {
      // Not form.action: the buttons are named "action", which shadows it.
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { Accept: "application/json" },
        body,
        credentials: "same-origin",
      });
      if (response.status === 401) {
        location.href = "/admin/login?next=" + encodeURIComponent(location.pathname + location.search);
        return;
      }
      answer = { ok: response.ok, data: await response.json() };
    } catch (e) {
      form.querySelectorAll("button").forEach((b) => (b.disabled = false));
      toast("The server did not answer; nothing was changed. Try again.", { error: true });
      return;
    }
    const data = answer.data || {};
    let kept = null;
    for (const state of data.comments || []) {
      const target = document.getElementById("c" + state.id);
      if (!target) continue;
      if (state.card) {
        kept = replaceCard(target, state.card);
      } else {
        const item = target.closest("li");
        (item || target).remove();
      }
    }
    if (!answer.ok) {
      form.querySelectorAll("button").forEach((b) => (b.disabled = false));
      const message = (data.error && data.error.message) || "That did not work.";
      toast(message, { error: true });
      if (kept) setCurrent(kept, true);
      return;
    }
    toast(data.notice || "Done.", { undo: true });
    const left = cards();
    const next = kept || left[Math.min(Math.max(at, 0), left.length - 1)];
    if (next) {
      setCurrent(next, true);
    } else {
      document.getElementById("main").focus();
    }
    refreshCounts();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form.decide")) {
      event.preventDefault();
      decide(form, event.submitter);
    } else if (form.id === "bulk" && !document.querySelector('input.select:checked')) {
      event.preventDefault();
      toast("Select one or more comments first (x, or the checkboxes).", { error: true });
    }
  });

  // ---- Selecting ---------------------------------------------------------------

  let lastChecked = null;

  function markSelected(box) {
    const card = box.closest("article.card");
    if (card) card.classList.toggle("selected", box.checked);
  }

  document.addEventListener("click", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains("select")) return;
    const boxes = Array.from(document.querySelectorAll("input.select"));
    if (event.shiftKey && lastChecked && lastChecked !== box) {
      const [from, to] = [boxes.indexOf(lastChecked), boxes.indexOf(box)].sort((a, b) => a - b);
      boxes.slice(from, to + 1).forEach((b) => {
        b.checked = box.checked;
        markSelected(b);
      });
    }
    markSelected(box);
    lastChecked = box;
  });

  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      document.querySelectorAll("input.select").forEach((b) => {
        b.checked = event.target.checked;
        markSelected(b);
      });
    }
  });

  // ---- Keyboard --------------------------------------------------------------

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const t = event.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || (t && t.isContentEditable)) {
      if (event.key === "Escape" && t instanceof HTMLElement) t.blur();
      return;
    }
    const help = document.getElementById("keys");
    if (help && help.open) return;
    const focusedCard = t instanceof Element ? t.closest("article.card") : null;
    if (focusedCard && focusedCard !== current) setCurrent(focusedCard, false);
    switch (event.key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "a":
        press(current, ["approve", "not_spam"]);
        break;
      case "s":
        press(current, ["spam"]);
        break;
      case "d":
        press(current, ["trash"]);
        break;
      case "r":
        press(current, ["restore"]);
        break;
      case "x": {
        const box = current && current.querySelector("input.select");
        if (!box) return;
        box.checked = !box.checked;
        markSelected(box);
        lastChecked = box;
        break;
      }
      case "o": {
        const link = current && current.querySelector('a[href^="/admin/comments/"]');
        if (link) link.click();
        break;
      }
      case "z": {
        const undo = document.getElementById("undo-form");
        if (!undo) return;
        undo.requestSubmit();
        break;
      }
      case "/": {
        const search = document.getElementById("q");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "?":
        if (help) help.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // ---- Live counts -------------------------------------------------------------

  const list = document.getElementById("cards");
  const pollEvery = 15000;
  let loadedNewest = list ? Number(list.dataset.newest || 0) : 0;

  async function refreshCounts() {
    if (!document.querySelector("[data-count]")) return;
    let pulse;
    try {
      const response = await fetch("/admin/pulse", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      pulse = await response.json();
    } catch (e) {
      return;
    }
    document.querySelectorAll("[data-count]").forEach((el) => {
      const n = pulse[el.dataset.count];
      if (typeof n === "number") el.textContent = String(n);
    });
    if (list && pulse.newest_pending > loadedNewest) {
      if (showsNewestHeld()) {
        await insertNewHeld();
      } else {
        const fresh = document.getElementById("fresh");
        if (fresh) {
          document.getElementById("fresh-text").textContent =
            "New held comments have arrived: " + pulse.pending + " waiting in Pending.";
          fresh.hidden = false;
        }
      }
    }
  }

  // The first page of Pending, newest first, unfiltered: where new held
  // comments belong, so they are put in place as they come.
  function showsNewestHeld() {
    const here = new URLSearchParams(location.search);
    const filtered = ["q", "article", "author", "cursor"].some((k) => here.get(k));
    return list.dataset.view === "pending" && here.get("sort") !== "oldest" && !filtered;
  }

  async function insertNewHeld() {
    let html;
    try {
      const response = await fetch("/admin/?status=pending", { credentials: "same-origin" });
      if (!response.ok) return;
      html = await response.text();
    } catch (e) {
      return;
    }
    const page = new DOMParser().parseFromString(html, "text/html");
    const fresh = Array.from(page.querySelectorAll("#cards article.card")).filter(
      (card) => Number(card.dataset.id) > loadedNewest && !document.getElementById(card.id),
    );
    // Oldest first, each put on top, so the newest ends up first.
    for (const card of fresh.reverse()) {
      const item = document.createElement("li");
      item.appendChild(document.adoptNode(card));
      list.prepend(item);
    }
    const newest = Number(page.getElementById("cards")?.dataset.newest || 0);
    if (newest > loadedNewest) loadedNewest = newest;
    if (fresh.length > 0) {
      toast(fresh.length === 1 ? "1 new held comment." : fresh.length + " new held comments.");
      if (!current) setCurrent(cards()[0], false);
    }
  }

  if (document.querySelector("[data-count]")) {
    setInterval(() => {
      if (document.visibilityState === "visible") refreshCounts();
    }, pollEvery);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") refreshCounts();
    });
  }

  // ---- The ban form: choosing what to ban by fills in its value -----------

  document.addEventListener("change", (event) => {
    const radio = event.target;
    if (radio instanceof HTMLInputElement && radio.name === "kind" && radio.dataset.value !== undefined) {
      const value = document.getElementById("ban-value");
      if (value) value.value = radio.dataset.value;
    }
  });

  const first = cards()[0];
  if (first) setCurrent(first, false);
})();
