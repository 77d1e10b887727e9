import { CLIENT_FORMAT } from './task-format.js';
import { DETAIL_SCRIPT } from './page-script-detail.js';
import { LIST_SCRIPT } from './page-script-list.js';

/**
 * The page's script, inlined under the response's CSP nonce (no build step, no external file).
 *
 * It reads its starting state from the `#sh-data` JSON block, adopts the server-rendered rows and
 * from then on patches them in place, keyed by task id, so rows never flicker and scroll position
 * survives. It only writes text through `textContent`, never markup, so task strings stay inert.
 * Plain ES2017 without template literals, so it can live inside this `String.raw` literal; the
 * formatting it shares with the server is spliced in from task-format.ts.
 */
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var dataEl = document.getElementById('sh-data');
  if (!dataEl) return;
  var cfg = JSON.parse(dataEl.textContent || '{}');
  var MAX_BACKOFF_MS = 30000;
  // Elapsed times are computed against server timestamps, so correct for a client clock that is off.
  var skew = typeof cfg.serverNow === 'number' ? cfg.serverNow - Date.now() : 0;
  var live = document.getElementById('sh-live');
  var notice = document.getElementById('sh-notice');
  var errorBox = document.getElementById('sh-error');
  var cancelling = Object.create(null);

  function now() { return Date.now() + skew; }
  // The formatting the server renders with, from its own source (see task-format.ts).
  var fmt = ${CLIENT_FORMAT};
  var isActive = fmt.isActive, outcomeText = fmt.outcomeText, fmtAgo = fmt.formatAgo;
  function badgeOf(t) { return fmt.lookOfTask(t).badge; }
  function metaText(t) { return fmt.formatMeta(t, now()); }
  function workerText(t) { return fmt.formatWorker(t, now(), cfg.staleAfterMs); }
  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  function setHidden(el, hidden) { if (el && el.hidden !== hidden) el.hidden = hidden; }
  function setClass(el, name) { if (el && el.className !== name) el.className = name; }
  function setAttr(el, name, value) { if (el && el.getAttribute(name) !== value) el.setAttribute(name, value); }
  function make(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function announce(messages) {
    if (!live || !messages.length) return;
    // Clearing first makes screen readers repeat a message identical to the previous one.
    live.textContent = '';
    setTimeout(function () { live.textContent = messages.join('. '); }, 60);
  }
  function showError(message) { setText(errorBox, message || ''); setHidden(errorBox, !message); }
  function noteServerDate(res) {
    var header = res.headers.get('Date');
    var ms = header ? Date.parse(header) : NaN;
    // The Date header has whole seconds only, so it replaces the finer estimate only when far off.
    if (!isNaN(ms) && Math.abs(ms + 500 - Date.now() - skew) > 2000) skew = ms + 500 - Date.now();
  }
  function post(url, body) {
    var headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (cfg.csrf) headers[cfg.csrf.headerName] = cfg.csrf.token;
    return fetch(url, {
      method: 'POST', headers: headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  }
  function errorText(res) {
    return res.json().then(function (body) {
      return body && body.error && body.error.message ? body.error.message : 'Request failed (' + res.status + ').';
    }, function () { return 'Request failed (' + res.status + ').'; });
  }

  // Polls url every pollIntervalMs while isBusy() holds and every idleMs otherwise (0: not at all),
  // with If-None-Match so an unchanged answer costs a bare 304; a hidden tab does not poll.
  function createPoller(url, onBody, isBusy, idleMs) {
    function next() { return isBusy() ? cfg.pollIntervalMs : idleMs; }
    var etag = null, timer = null, inFlight = false, again = false, failures = 0;
    var lastSuccess = Date.now(), pausedHidden = false;
    function schedule(ms) {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(run, ms);
    }
    function updateNotice() {
      if (!notice) return;
      if (failures === 0) { setHidden(notice, true); return; }
      setText(notice, 'Last updated ' + fmtAgo(Date.now() - lastSuccess) + ' \u2014 reconnecting');
      setHidden(notice, false);
    }
    function settle(ok) {
      inFlight = false;
      if (again) { again = false; schedule(0); return; }
      if (!ok) {
        // Keep retrying whatever the last data said: it may be stale, and the server may be back.
        schedule(Math.min(cfg.pollIntervalMs * Math.pow(2, failures), MAX_BACKOFF_MS));
      } else if (next() > 0) {
        schedule(next());
      }
    }
    function run() {
      timer = null;
      if (document.hidden) { pausedHidden = true; return; }
      if (inFlight) { again = true; return; }
      inFlight = true;
      var headers = { 'Accept': 'application/json' };
      if (etag) headers['If-None-Match'] = etag;
      fetch(url, { headers: headers, credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
        noteServerDate(res);
        if (res.status === 304) return null;
        if (!res.ok) throw new Error('HTTP ' + res.status);
        var tag = res.headers.get('ETag');
        return res.json().then(function (body) { etag = tag; return body; });
      }).then(function (body) {
        failures = 0;
        lastSuccess = Date.now();
        updateNotice();
        if (body) onBody(body);
        settle(true);
      }, function () {
        failures += 1;
        updateNotice();
        settle(false);
      });
    }
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden && pausedHidden) { pausedHidden = false; run(); }
    });
    return {
      kick: function () { if (inFlight) again = true; else schedule(0); },
      start: function () { if (next() > 0) schedule(next()); },
      tick: updateNotice
    };
  }

  function isRetryable(t) { return (t.status === 'FAILED' || t.status === 'CANCELLED') && !t.retried_as; }
  // Retries a task; resolves with the new task's body, or null once the error is shown.
  function retryTask(t, button) {
    button.disabled = true;
    return post(cfg.base + '/' + encodeURIComponent(t.id) + '/retry/').then(function (res) {
      if (res.status !== 201) return errorText(res).then(function (text) { showError(text); return null; });
      return res.json().then(function (body) { showError(''); announce(['Retried ' + t.label]); return body; });
    }, function () {
      showError('Could not reach the server to retry. Try again.');
      return null;
    }).then(function (body) { button.disabled = false; return body; });
  }

  function cancelTask(id, url, refresh, poller) {
    cancelling[id] = true;
    refresh();
    post(url).then(function (res) {
      // 409 means it finished meanwhile: either way the next poll shows the real state.
      if (res.status === 202 || res.status === 409) { showError(''); poller.kick(); return; }
      delete cancelling[id];
      refresh();
      return errorText(res).then(showError);
    }, function () {
      delete cancelling[id];
      refresh();
      showError('Could not reach the server to cancel. Try again.');
    });
  }

  function showWorker(root, t) {
    var worker = root.querySelector('.sh-worker');
    var text = workerText(t);
    setText(worker, text);
    setHidden(worker, text === '');
  }

  function updateCommon(root, t) {
    var look = fmt.lookOfTask(t);
    var active = isActive(t);
    setClass(root, 'sh-task sh-task--' + look.modifier);
    setClass(root.querySelector('.sh-ind'), 'sh-ind sh-ind--' + look.modifier);
    var badge = root.querySelector('.sh-badge');
    setClass(badge, 'sh-badge sh-badge--' + look.modifier);
    setText(badge, look.badge);
    setText(root.querySelector('.sh-meta'), metaText(t));
    var button = root.querySelector('.sh-cancel');
    if (button) {
      // A button that disappears under the keyboard focus would drop focus to the document.
      if (!active && button === document.activeElement) {
        var focusTarget = root.querySelector('.sh-name') || root.querySelector('a');
        if (focusTarget) focusTarget.focus();
      }
      setHidden(button, !active);
      var busy = active && !!cancelling[t.id];
      if (!active) delete cancelling[t.id];
      if (button.disabled !== busy) button.disabled = busy;
      setText(button, busy ? 'Cancelling\u2026' : 'Cancel');
      setAttr(button, 'aria-label', (busy ? 'Cancelling ' : 'Cancel ') + t.label);
    }
    var retry = root.querySelector('.sh-retry');
    if (retry) setHidden(retry, !isRetryable(t));
    var bar = root.querySelector('.sh-progress');
    if (bar) {
      var showBar = t.status === 'RUNNING' && typeof t.progress === 'number';
      setHidden(bar, !showBar);
      if (showBar && bar.value !== t.progress) {
        bar.value = t.progress;
        bar.textContent = Math.round(t.progress) + '%';
      }
      setAttr(bar, 'aria-label', 'Progress of ' + t.label);
    }
  }
${LIST_SCRIPT}${DETAIL_SCRIPT}
  if (cfg.mode === 'detail') startDetail(); else startList();
})();
`;
