/* Stocktake counting page (AST-4): room first, then asset codes from a keyboard-wedge scanner, the camera,
   a photo decoded on the server, or typed by hand. Every scan gets a client_id and waits in localStorage
   until the server has it, so scans survive a network drop; the server records a client_id once. */
(function () {
  "use strict";
  const root = document.getElementById("stocktake-count");
  if (!root) return;
  const T = JSON.parse(document.getElementById("stocktake-texts").textContent);
  const urls = { room: root.dataset.roomUrl, scan: root.dataset.scanUrl, decode: root.dataset.decodeUrl };
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const key = "houqin.stocktake." + root.dataset.stocktake;
  const $ = (id) => document.getElementById(id);
  const codeInput = $("code-input"), roomInput = $("room-input"), result = $("scan-result");
  let room = null, flushing = false, pendingQuantity = null, stream = null, scanning = false;

  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => (values[k] ?? ""));
  const load = () => { try { return JSON.parse(localStorage.getItem(key + ".queue") || "[]"); } catch (e) { return []; } };
  const save = (queue) => localStorage.setItem(key + ".queue", JSON.stringify(queue));
  const newId = () => (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
    : Date.now().toString(36) + Math.random().toString(36).slice(2, 12);

  function say(message, kind) {
    result.textContent = message;
    result.className = "scan-result mt-2 " + (kind || "");
  }

  function buzz(kind) {
    if (navigator.vibrate) navigator.vibrate(kind === "found" ? 40 : [90, 60, 90]);
  }

  function showQueue() {
    const n = load().length, box = $("queue-status");
    box.hidden = n === 0;
    box.textContent = n ? fmt(navigator.onLine ? T.sending : T.offline, { n: n }) : "";
  }

  function setProgress(p) {
    if (!p) return;
    $("stocktake-progress").textContent = p.text;
    $("progress-bar").setAttribute("aria-valuenow", p.percent);
    $("progress-bar").firstElementChild.style.width = p.percent + "%";
  }

  function setCounts(c) {
    if (!c) return;
    $("count-found").textContent = c.found;
    $("count-missing").textContent = c.missing;
    $("count-unexpected").textContent = c.unexpected;
  }

  function lineItem(line) {
    const li = document.createElement("li");
    li.dataset.code = line.code;
    const left = document.createElement("span");
    left.textContent = line.code + " " + line.name + (line.batch ? " ×" + line.book_quantity : "");
    const right = document.createElement("span");
    right.className = "state state-" + line.result;
    let state = line.label;
    if (line.batch || line.found_quantity > 1) state += " " + fmt(T.of, { found: line.found_quantity, book: line.book_quantity });
    if (line.found_room && !line.here) state += " (" + fmt(T.in_room, { room: line.found_room }) + ")";
    right.textContent = state;
    li.append(left, right);
    return li;
  }

  function showLines(lines) {
    const list = $("room-lines");
    list.replaceChildren(...lines.map(lineItem));
  }

  function upsertLine(line) {
    if (!line) return;
    const list = $("room-lines");
    const old = list.querySelector('li[data-code="' + CSS.escape(line.code) + '"]');
    const li = lineItem(line);
    if (old) old.replaceWith(li); else list.prepend(li);
  }

  function openRoom(data) {
    room = data.room;
    localStorage.setItem(key + ".room", room.code);
    $("room-current").hidden = false;
    $("room-current").textContent = fmt(T.room_now, { room: room.label });
    $("room-error").textContent = "";
    roomInput.value = room.code;
    $("asset-step").hidden = false;
    setCounts(data.counts);
    setProgress(data.progress);
    showLines(data.lines || []);
    codeInput.focus();
  }

  async function fetchRoom(text, quiet) {
    try {
      const r = await fetch(urls.room + "?room=" + encodeURIComponent(text), { headers: { Accept: "application/json" } });
      const data = await r.json();
      if (!data.ok) { $("room-error").textContent = data.message; if (!quiet) roomInput.focus(); return; }
      openRoom(data);
      if (!quiet) say(fmt(T.room_now, { room: data.room.label }), "found");
    } catch (e) {
      $("room-error").textContent = fmt(T.offline, { n: load().length });
    }
  }

  async function send(item) {
    const r = await fetch(urls.scan, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(item),
    });
    const type = r.headers.get("Content-Type") || "";
    if (!type.includes("application/json")) throw Object.assign(new Error("signin"), { signin: true });
    if (r.status >= 500) throw new Error("server");
    return r.json();
  }

  function handle(data, item) {
    if (data.switch_room) { openRoom(data); say(fmt(T.room_now, { room: data.room.label }), "found"); return; }
    if (!data.ok) { say(data.message, "error"); buzz("error"); return; }
    if (data.need_quantity) { askQuantity(item.code, data.name, data.book_quantity); say(data.message, "warn"); return; }
    setCounts(data.counts);
    setProgress(data.progress);
    if (room && data.room && data.room.id === room.id) upsertLine(data.line);
    const good = data.outcome === "found";
    say(data.message, good ? "found" : "warn");
    buzz(good ? "found" : "warn");
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      let queue = load();
      while (queue.length) {
        const item = queue[0];
        let data;
        try {
          data = await send(item);
        } catch (e) {
          if (e.signin) say(T.signin, "error");
          break;
        }
        queue = load().filter((q) => q.client_id !== item.client_id);
        save(queue);
        handle(data, item);
      }
    } finally {
      flushing = false;
      showQueue();
    }
  }

  function submit(code, quantity) {
    code = (code || "").trim();
    if (!code) return;
    if (/^ROOM:/i.test(code)) { fetchRoom(code); return; }
    if (!room) { say(T.choose_room, "error"); roomInput.focus(); return; }
    const item = { client_id: newId(), code: code, room: room.id, quantity: quantity ?? null };
    const queue = load();
    queue.push(item);
    save(queue);
    if (!navigator.onLine) { say(fmt(T.queued, { code: code }), "warn"); showQueue(); return; }
    flush().then(() => { if (load().some((q) => q.client_id === item.client_id)) say(fmt(T.queued, { code: code }), "warn"); });
  }

  function askQuantity(code, name, book) {
    pendingQuantity = code;
    $("quantity-label").textContent = fmt(T.quantity_for, { name: name || code, book: book });
    $("quantity-form").hidden = false;
    $("quantity-input").value = "";
    $("quantity-input").focus();
  }

  function closeQuantity() {
    pendingQuantity = null;
    $("quantity-form").hidden = true;
    codeInput.focus();
  }

  // The forms ------------------------------------------------------------------------------------------
  $("room-form").addEventListener("submit", (ev) => { ev.preventDefault(); fetchRoom(roomInput.value.trim()); });
  $("room-select").addEventListener("change", (ev) => { if (ev.target.value) fetchRoom(ev.target.value); });
  $("scan-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = codeInput.value;
    codeInput.value = "";
    submit(code);
    codeInput.focus();
  });
  $("quantity-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const n = parseInt($("quantity-input").value, 10);
    if (Number.isNaN(n) || n < 0) { $("quantity-input").focus(); return; }
    const code = pendingQuantity;
    closeQuantity();
    submit(code, n);
  });
  $("quantity-cancel").addEventListener("click", closeQuantity);

  // Photo → server decoding (works on plain-HTTP intranets, where live cameras are refused) ---------------
  async function decode(blob) {
    const body = new FormData();
    body.append("photo", blob, "label.jpg");
    const r = await fetch(urls.decode, { method: "POST", body: body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
    const data = await r.json();
    if (!data.ok) throw new Error(data.message);
    return data.codes.map((c) => c.text);
  }

  $("photo-input").addEventListener("change", async (ev) => {
    const file = ev.target.files && ev.target.files[0];
    ev.target.value = "";
    if (!file) return;
    say(T.reading, "");
    try {
      const codes = await decode(file);
      if (!codes.length) { say(T.no_code, "error"); return; }
      codes.forEach((c) => submit(c));
    } catch (e) {
      say(e.message || T.no_code, "error");
    }
  });

  // Live camera when the page is secure: BarcodeDetector where the browser has it, else frames to the server.
  const canLive = window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  $("camera-live").hidden = !canLive;

  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $("camera-box").hidden = true;
    codeInput.focus();
  }

  async function startCamera() {
    const video = $("camera-video");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      say(T.camera_refused, "error");
      return;
    }
    video.srcObject = stream;
    await video.play();
    $("camera-box").hidden = false;
    say(T.camera_hint, "");
    scanning = true;
    let detector = null;
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128"] }); } catch (e) { detector = null; }
    }
    const canvas = document.createElement("canvas");
    let last = "";
    while (scanning) {
      let codes = [];
      try {
        if (detector) {
          codes = (await detector.detect(video)).map((b) => b.rawValue);
        } else if (video.videoWidth) {
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          canvas.getContext("2d").drawImage(video, 0, 0);
          const blob = await new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.85));
          codes = blob ? await decode(blob) : [];
        }
      } catch (e) { codes = []; }
      const code = codes.find((c) => c && c !== last);
      if (code) { last = code; submit(code); stopCamera(); break; }
      await new Promise((ok) => setTimeout(ok, detector ? 250 : 700));
    }
  }

  $("camera-live").addEventListener("click", startCamera);
  $("camera-stop").addEventListener("click", stopCamera);

  // Network: resend what waits when the network is back, and now and then --------------------------------
  window.addEventListener("online", () => { showQueue(); flush(); });
  window.addEventListener("offline", showQueue);
  setInterval(() => { if (load().length && navigator.onLine) flush(); }, 15000);
  setInterval(() => { if (room && !load().length && document.visibilityState === "visible") fetchRoom(room.code, true); }, 30000);

  showQueue();
  if (load().length) flush();
  const lastRoom = localStorage.getItem(key + ".room");
  if (lastRoom) fetchRoom(lastRoom, true); else roomInput.focus();
})();
