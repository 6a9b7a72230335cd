// counterunit HQ pages: a little progressive JavaScript, no libraries from elsewhere.
// cu.post(url, data) sends a state-changing request with the session's CSRF token
// (read from <meta name="csrf-token">) in the X-CSRF-Token header.
"use strict";
window.cu = (function () {
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function post(url, data, method) {
    return fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(),
                 "Accept": "application/json" },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
  }
  // Forms with data-confirm="..." ask before they are sent (disable, revoke ...).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });
  return { csrf: csrf, post: post };
})();
