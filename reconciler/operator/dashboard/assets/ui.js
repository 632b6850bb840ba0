// Refreshes the dashboard: fetches its <main>, rendered and escaped by the server, every few
// seconds. Without this script the page shows the same, refreshed by the browser less often.
(function () {
  'use strict';
  var main = document.querySelector('main');
  var note = document.getElementById('refresh');
  var period = Number(document.body.dataset.refresh || 5) * 1000;
  // The page's address may carry the login (http://user:token@host/ui/), which fetch refuses;
  // the browser sends the login it already has.
  var url = new URL('main', window.location.href);
  url.username = '';
  url.password = '';
  function again() { window.setTimeout(refresh, period); }
  function refresh() {
    fetch(url, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (resp) {
        if (!resp.ok) { throw new Error('the operator answered ' + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        note.textContent = 'refreshed every ' + period / 1000 + ' s, last at ' + new Date().toLocaleTimeString();
      })
      .catch(function (err) { note.textContent = 'not refreshed: ' + err.message; })
      .then(again);
  }
  again();
})();
