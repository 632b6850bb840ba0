// Refreshes the dashboard: fetches its <main>, rendered and escaped by the server, every few
// seconds. Without this script the page shows the same, refreshed by the browser less often.
(function () {
  'use strict';
  var main = document.querySelector('main');
  var note = document.getElementById('refresh');
  var period = Number(document.body.dataset.refresh || 5) * 1000;
  function again() { window.setTimeout(refresh, period); }
  function refresh() {
    fetch('main', { cache: 'no-store', credentials: 'same-origin' })
      .then(function (resp) {
        if (!resp.ok) { throw new Error('the operator answered ' + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        note.textContent = 'refreshed every ' + period / 1000 + ' s';
      })
      .catch(function (err) { note.textContent = 'not refreshed: ' + err.message; })
      .then(again);
  }
  again();
})();
