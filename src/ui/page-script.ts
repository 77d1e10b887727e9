import { CLIENT_FORMAT } from './task-format.js';

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

  // The workers strip: refreshed from fleet/ every few seconds, its freshness text every second.
  function startFleet() {
    var box = document.getElementById('sh-fleet');
    var list = document.getElementById('sh-fleet-list');
    var alertBox = document.getElementById('sh-fleet-alert');
    if (!cfg.fleetUrl || !box || !list) return;
    var fleet = cfg.fleet;
    function render() {
      var shown = fmt.formatFleet(fleet, now());
      var items = list.children;
      if (items.length !== shown.lines.length) {
        while (list.firstChild) list.removeChild(list.firstChild);
        for (var i = 0; i < shown.lines.length; i++) list.appendChild(make('li', null, shown.lines[i]));
      } else {
        for (var j = 0; j < shown.lines.length; j++) setText(items[j], shown.lines[j]);
      }
      setText(alertBox, shown.alert);
      setHidden(alertBox, shown.alert === '');
      setHidden(box, shown.lines.length === 0 && shown.alert === '');
    }
    function refresh() {
      if (document.hidden) return;
      fetch(cfg.fleetUrl, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' } })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (body) { if (body) { fleet = body; render(); } }, function () { /* the next refresh tries again */ });
    }
    setInterval(render, 1000);
    setInterval(refresh, Math.max(cfg.pollIntervalMs || 0, 5000));
  }

  function startList() {
    startFleet();
    var list = document.getElementById('sh-tasks');
    var empty = document.getElementById('sh-empty');
    var runButton = document.getElementById('sh-run');
    var tasks = cfg.tasks || [];
    var rows = Object.create(null);
    var known = Object.create(null);
    var optimistic = Object.create(null);
    var i;
    for (i = 0; i < list.children.length; i++) {
      var child = list.children[i];
      rows[child.getAttribute('data-id')] = child;
    }
    for (i = 0; i < tasks.length; i++) known[tasks[i].id] = tasks[i].status;

    function buildRow(t) {
      var li = make('li', 'sh-task');
      li.setAttribute('data-id', t.id);
      var row = make('div', 'sh-row');
      var ind = make('span', 'sh-ind');
      ind.setAttribute('aria-hidden', 'true');
      ind.appendChild(make('span', 'sh-ring'));
      ind.appendChild(make('span', 'sh-ring sh-ring--late'));
      ind.appendChild(make('span', 'sh-dot'));
      row.appendChild(ind);
      var link = make('a', 'sh-name');
      link.href = cfg.base + '/' + encodeURIComponent(t.id) + '/';
      row.appendChild(link);
      row.appendChild(make('span', 'sh-badge'));
      row.appendChild(make('span', 'sh-meta'));
      if (cfg.canCancel || cfg.canRetry) {
        var actions = make('span', 'sh-actions');
        if (cfg.canCancel) actions.appendChild(make('button', 'sh-cancel', 'Cancel'));
        if (cfg.canRetry) {
          var retryButton = make('button', 'sh-retry', 'Retry');
          retryButton.setAttribute('aria-label', 'Retry ' + t.label);
          retryButton.hidden = true;
          actions.appendChild(retryButton);
        }
        for (var b = 0; b < actions.children.length; b++) actions.children[b].type = 'button';
        row.appendChild(actions);
      }
      li.appendChild(row);
      var who = make('p', 'sh-who');
      who.hidden = true;
      li.appendChild(who);
      var bar = make('progress', 'sh-progress');
      bar.max = 100;
      bar.hidden = true;
      li.appendChild(bar);
      var message = make('p', 'sh-message');
      message.hidden = true;
      li.appendChild(message);
      var worker = make('p', 'sh-worker');
      worker.hidden = true;
      li.appendChild(worker);
      var result = make('p', 'sh-result');
      result.hidden = true;
      li.appendChild(result);
      return li;
    }
    function updateRow(li, t) {
      updateCommon(li, t);
      setText(li.querySelector('.sh-name'), t.label);
      var who = li.querySelector('.sh-who');
      var whoText = fmt.formatWho(t);
      setText(who, whoText);
      setHidden(who, whoText === '');
      var message = li.querySelector('.sh-message');
      var text = isActive(t) ? (t.message || '') : '';
      setText(message, text);
      setHidden(message, text === '');
      showWorker(li, t);
      var result = li.querySelector('.sh-result');
      var outcome = outcomeText(t);
      setText(result, outcome);
      setHidden(result, outcome === '');
    }
    function render() {
      var shown = [];
      var seen = Object.create(null);
      var messages = [];
      var id;
      // A task just started may be missing from a poll answer that was already on its way.
      for (id in optimistic) {
        if (!tasks.some(function (t) { return t.id === id; })) shown.push(optimistic[id]);
        else delete optimistic[id];
      }
      shown = shown.concat(tasks);
      var cursor = list.firstElementChild;
      for (var k = 0; k < shown.length; k++) {
        var t = shown[k];
        seen[t.id] = true;
        var li = rows[t.id];
        if (!li) { li = buildRow(t); rows[t.id] = li; }
        updateRow(li, t);
        if (li === cursor) cursor = cursor.nextElementSibling;
        else list.insertBefore(li, cursor);
        if (known[t.id] && known[t.id] !== t.status) messages.push(t.label + ': ' + badgeOf(t));
        known[t.id] = t.status;
      }
      while (cursor) {
        var next = cursor.nextElementSibling;
        id = cursor.getAttribute('data-id');
        if (!seen[id]) { delete rows[id]; list.removeChild(cursor); }
        cursor = next;
      }
      setHidden(empty, shown.length > 0);
      announce(messages);
    }
    var counts = cfg.counts;
    // A filtered or older page is busy too while tasks run that it does not show: the counts say
    // so, and one may end into this filter at any moment. (On the first page of every task, the
    // unfinished ones are the newest: its own rows tell.)
    function busy() {
      if (Object.keys(optimistic).length) return true;
      if (!cfg.showStarted && counts && (counts.RUNNING > 0 || counts.PENDING > 0)) return true;
      return tasks.some(isActive);
    }
    function showCounts(counts) {
      if (!counts) return;
      var badges = document.querySelectorAll('[data-count]');
      for (var c = 0; c < badges.length; c++) {
        var value = counts[badges[c].getAttribute('data-count')];
        if (typeof value === 'number') setText(badges[c], String(value));
      }
    }
    var poller = createPoller(cfg.statusUrl, function (body) {
      tasks = body.tasks || [];
      render();
      if (body.counts) counts = body.counts;
      showCounts(body.counts);
    }, busy, cfg.idlePollIntervalMs || 0);

    list.addEventListener('click', function (event) {
      var target = event.target;
      var button = target && target.closest ? target.closest('.sh-cancel, .sh-retry') : null;
      if (!button) return;
      var li = button.closest('.sh-task');
      var id = li && li.getAttribute('data-id');
      if (!id) return;
      if (button.className === 'sh-retry') {
        var task = tasks.filter(function (t) { return t.id === id; })[0];
        if (task) retryTask(task, button).then(function (body) { if (body) poller.kick(); });
        return;
      }
      if (cancelling[id]) return;
      cancelTask(id, cfg.base + '/' + encodeURIComponent(id) + '/cancel/', render, poller);
    });

    // The form of the chosen kind, if it has one: shown alone, its values sent as the input.
    function formOf(kind) {
      var forms = document.querySelectorAll('.sh-fields');
      for (var f = 0; f < forms.length; f++) if (forms[f].getAttribute('data-kind') === kind) return forms[f];
      return null;
    }
    function showForm(kind) {
      var forms = document.querySelectorAll('.sh-fields');
      for (var f = 0; f < forms.length; f++) setHidden(forms[f], forms[f].getAttribute('data-kind') !== kind);
    }
    function formInput(form) {
      var input = {};
      var controls = form.querySelectorAll('[data-type]');
      for (var c = 0; c < controls.length; c++) {
        var control = controls[c], type = control.getAttribute('data-type');
        if (type === 'boolean') input[control.name] = control.checked;
        else if (control.value === '') continue;
        else input[control.name] = type === 'number' ? Number(control.value) : control.value;
      }
      return input;
    }
    var kindChoice = document.getElementById('sh-kind');
    if (kindChoice) kindChoice.addEventListener('change', function () { showForm(kindChoice.value); });
    if (runButton) {
      runButton.addEventListener('click', function () {
        runButton.disabled = true;
        var kindSelect = document.getElementById('sh-kind');
        var kind = kindSelect ? kindSelect.value : (cfg.kinds && cfg.kinds[0]);
        var body = kindSelect ? { kind: kindSelect.value } : {};
        var form = kind ? formOf(kind) : null;
        if (form) body.input = formInput(form);
        post(cfg.runUrl, body).then(function (res) {
          if (res.status !== 201) return errorText(res).then(showError);
          return res.json().then(function (body) {
            showError('');
            announce(['Started ' + body.label]);
            poller.kick();
            // Elsewhere (a filter, an older page) the new task may not belong in the list.
            if (!cfg.showStarted) return;
            optimistic[body.id] = {
              id: body.id, label: body.label, status: 'PENDING', result: null, duration: null,
              created_at: new Date(now()).toISOString(), started_at: null, completed_at: null,
              progress: null, message: null
            };
            known[body.id] = 'PENDING';
            render();
          });
        }, function () {
          showError('Could not reach the server. Try again.');
        }).then(function () { runButton.disabled = false; });
      });
    }

    setInterval(function () {
      var all = tasks;
      for (var j = 0; j < all.length; j++) {
        var li = rows[all[j].id];
        if (li) {
          setText(li.querySelector('.sh-meta'), metaText(all[j]));
          showWorker(li, all[j]);
        }
      }
      poller.tick();
    }, 1000);
    poller.start();
  }

  function startDetail() {
    var article = document.querySelector('#sh-app .sh-task');
    var task = cfg.task;
    var lastStatus = task.status;
    function render() {
      updateCommon(article, task);
      var values = fmt.detailFields(task);
      var nodes = article.querySelectorAll('[data-field]');
      for (var j = 0; j < nodes.length; j++) {
        var name = nodes[j].getAttribute('data-field');
        if (Object.prototype.hasOwnProperty.call(values, name)) setText(nodes[j], values[name]);
      }
      if (task.status !== lastStatus) announce([task.label + ': ' + badgeOf(task)]);
      lastStatus = task.status;
      renderTimeline();
    }
    // The timeline is rebuilt from the task as the server formats it (see timelineOf).
    function renderTimeline() {
      var list = document.getElementById('sh-timeline');
      if (!list) return;
      var entries = fmt.timelineOf(task);
      var items = [];
      for (var e = 0; e < entries.length; e++) {
        var li = make('li');
        var time = make('time', '', fmt.formatTimestamp(entries[e].at));
        time.setAttribute('datetime', entries[e].at);
        li.appendChild(time);
        li.appendChild(document.createTextNode(' '));
        li.appendChild(make('span', '', entries[e].text));
        if (entries[e].task) {
          li.appendChild(document.createTextNode(' '));
          var link = make('a', '', entries[e].task);
          link.href = cfg.base + '/' + encodeURIComponent(entries[e].task) + '/';
          li.appendChild(link);
        }
        items.push(li);
      }
      if (list.children.length === items.length && list.textContent === items.map(function (i) { return i.textContent; }).join('')) return;
      list.textContent = '';
      for (e = 0; e < items.length; e++) list.appendChild(items[e]);
    }
    // A finished task never changes again: no idle polling here.
    var poller = createPoller(cfg.taskUrl, function (body) { task = body; render(); }, function () {
      return isActive(task);
    }, 0);
    article.addEventListener('click', function (event) {
      var target = event.target;
      var retry = target && target.closest ? target.closest('.sh-retry') : null;
      if (retry) {
        retryTask(task, retry).then(function (body) {
          if (body) window.location.assign(cfg.base + '/' + encodeURIComponent(body.id) + '/');
        });
        return;
      }
      var button = target && target.closest ? target.closest('.sh-cancel') : null;
      if (!button || cancelling[task.id]) return;
      cancelTask(task.id, cfg.taskUrl + 'cancel/', render, poller);
    });
    setInterval(function () {
      setText(article.querySelector('.sh-meta'), metaText(task));
      poller.tick();
    }, 1000);
    poller.start();
  }

  if (cfg.mode === 'detail') startDetail(); else startList();
})();
`;
