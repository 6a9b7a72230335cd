// The live dashboard: tiles replaced as the server sends them (server-sent events),
// tickers counted here, a new alert highlighted with a sound (WebAudio, synthesised:
// nothing to download), and acknowledged without leaving the page.
(function () {
  "use strict";
  var board = document.getElementById("dashboard");
  if (!board) { return; }
  var state = document.getElementById("live-state");
  var heard = {};  // alert thread ids already announced
  window.cuDashboard = { updates: 0, sounds: 0, lastUpdate: null };

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx();
      [0, 0.25].forEach(function (at) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "sine"; osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.2, ctx.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.2);
        osc.connect(gain); gain.connect(ctx.destination);
        osc.start(ctx.currentTime + at); osc.stop(ctx.currentTime + at + 0.2);
      });
    } catch (e) { /* no audio device: the highlight still shows */ }
    window.cuDashboard.sounds += 1;
  }

  function announce(root) {
    root.querySelectorAll('.tile[data-alert-new="1"]').forEach(function (tile) {
      var key = tile.dataset.window + "/" + (tile.dataset.alert || "live");
      if (!heard[key]) { heard[key] = true; beep(); }
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    board.querySelectorAll(".ticker[data-since]").forEach(function (el) {
      var t = Date.parse(el.dataset.since);
      if (isNaN(t)) { el.textContent = ""; return; }
      var s = Math.max(0, Math.floor((now - t) / 1000));
      el.textContent = Math.floor(s / 60) + ":" + pad(s % 60);
    });
  }

  function replace(id, html) {
    var old = document.getElementById("window-" + id);
    if (!old) { return; }
    var box = document.createElement("div");
    box.innerHTML = html.trim();
    var fresh = box.firstElementChild;
    if (!fresh || Number(fresh.dataset.seq) < Number(old.dataset.seq)) { return; }
    old.replaceWith(fresh);
  }

  function connect() {
    var seq = board.dataset.seq || "0";
    var source = new EventSource(board.dataset.feed + "?since=" + encodeURIComponent(seq));
    source.onopen = function () {
      state.dataset.live = "open"; state.textContent = board.dataset.textLive;
    };
    source.addEventListener("tiles", function (ev) {
      var msg = JSON.parse(ev.data);
      board.dataset.seq = String(msg.seq);
      Object.keys(msg.tiles).forEach(function (id) { replace(id, msg.tiles[id]); });
      window.cuDashboard.updates += 1;
      window.cuDashboard.lastUpdate = Date.now();
      announce(board); tick();
    });
    source.onerror = function () {
      state.dataset.live = "lost"; state.textContent = board.dataset.textLost;
    };
  }

  board.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("ack-form")) { return; }
    ev.preventDefault();
    var token = form.querySelector('input[name="csrf_token"]').value;
    fetch(form.action, { method: "POST", credentials: "same-origin",
                         headers: { "X-CSRF-Token": token, "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { form.submit(); } });
  });

  announce(board); tick();
  setInterval(tick, 1000);
  connect();
}());
